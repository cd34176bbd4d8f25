"""The market data feed: providers of quote batches and the loop that ingests them."""

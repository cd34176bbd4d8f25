"""Portfolio feature package."""

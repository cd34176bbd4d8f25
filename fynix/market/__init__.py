"""Market feature package."""

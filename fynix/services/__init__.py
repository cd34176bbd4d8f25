"""Application services that are not tied to one feature."""

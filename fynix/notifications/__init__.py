"""Notifications feature package."""

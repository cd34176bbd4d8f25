"""Ai feature package."""

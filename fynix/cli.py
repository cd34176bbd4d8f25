"""Flask CLI commands."""

from flask import Flask


def register_cli(app: Flask) -> None:
    """Attach Fynix's commands to ``app``."""

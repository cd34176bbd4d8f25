"""Cookie sessions only where they are used: the admin pages (the API is bearer-token only)."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class AdminOnlySessionInterface(SecureCookieSessionInterface):
    """Opens the signed cookie session under /admin only.

    Every other request gets Flask's null session, so an API request pays neither for
    building a signer nor for parsing a cookie it must never depend on.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The admin session, or a null session outside /admin."""
        if request.path == "/admin" or request.path.startswith("/admin/"):
            return super().open_session(app, request)
        return self.make_null_session(app)

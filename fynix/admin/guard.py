"""Who may open admin pages (an admin's session), safe redirects, and security headers."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, abort, g, redirect, request, session, url_for

from fynix.admin import blp
from fynix.common.ids import get_by_id
from fynix.users.models import User

SESSION_KEY = "admin_user_id"
# Reachable without an admin session: the login form, logout (CSRF-protected) and the CSS.
OPEN_ENDPOINTS = frozenset({"admin.login", "admin.logout", "admin.static"})

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def log_in(user: User) -> None:
    """Start a fresh admin session for ``user`` (a new session defeats fixation)."""
    session.clear()
    session[SESSION_KEY] = user.id
    session.permanent = True


def log_out() -> None:
    """Forget the admin session (and its CSRF token)."""
    session.clear()


def session_user() -> User | None:
    """The user of this session, or None; a deleted account ends the session."""
    user_id = session.get(SESSION_KEY)
    user = get_by_id(User, user_id)
    if user is None:
        session.pop(SESSION_KEY, None)
    return user


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a relative path to an admin page of this site, else None."""
    if not target or "\\" in target or any(ord(char) < 33 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    prefix = blp.url_prefix or ""
    if parts.path != prefix and not parts.path.startswith(prefix + "/"):
        return None
    return target


def _asked_for() -> str:
    """The page being asked for, as a relative path with its query string."""
    return request.full_path if request.query_string else request.path


@blp.before_request
def require_admin() -> Response | None:
    """Anonymous visitors go to the login page; signed-in non-admins get 403."""
    if request.endpoint == "admin.static":
        return None
    g.admin_user = session_user()
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if g.admin_user is None:
        return redirect(url_for("admin.login", next=_asked_for()))
    if not g.admin_user.is_admin:
        abort(403, f"The account {g.admin_user.username} is not an administrator.")
    return None


@blp.after_request
def add_security_headers(response: Response) -> Response:
    """Lock admin pages down: own-origin resources only, no framing, never cached."""
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response

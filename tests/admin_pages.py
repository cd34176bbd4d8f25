"""A form-posting session on the admin pages, shared by every module that drives them.

Loaded as a pytest plugin (see ``pytest_plugins`` in conftest.py) so its fixtures reach
every test module without an import.
"""

from __future__ import annotations

import re

import pytest

from fynix.extensions import db
from tests.conftest import PASSWORD, AuthActions

TOKEN_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FLASH_RE = re.compile(r'<p class="flash flash-\w+" role="\w+">([^<]*)</p>')


class AdminPages:
    """A browser-like session on the admin pages: reads CSRF tokens off pages and posts them."""

    def __init__(self, client):
        self.client = client

    def token(self, path: str = "/admin/login") -> str:
        """The CSRF token of this session, read from a rendered form."""
        match = TOKEN_RE.search(self.client.get(path).get_data(as_text=True))
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, login: str, password: str = PASSWORD, next: str | None = None):
        """Submit the login form (with its token); returns the response, not followed."""
        url = f"/admin/login?next={next}" if next else "/admin/login"
        data = {"login": login, "password": password, "csrf_token": self.token(url)}
        if next:
            data["next"] = next
        return self.client.post("/admin/login", data=data)

    def post(self, path: str, data: dict | None = None, **kwargs):
        """POST a form with this session's CSRF token."""
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token()}, **kwargs)

    def text(self, path: str, status: int = 200) -> str:
        """GET a page, check its status, return its HTML."""
        response = self.client.get(path)
        assert response.status_code == status, response.get_data(as_text=True)[:500]
        return response.get_data(as_text=True)


def signed_in_pages(app) -> tuple[AdminPages, AuthActions, dict]:
    """Pages of ``app`` signed in as a new admin; its AuthActions and API headers too."""
    auth = AuthActions(app.test_client())
    pages = AdminPages(app.test_client())
    user, headers = auth.new_user(admin=True)
    assert pages.login(user["username"]).status_code == 302
    return pages, auth, headers


def flashes(html: str) -> list[str]:
    """The flash messages a rendered page shows."""
    return FLASH_RE.findall(html)


def is_admin(app, user_id: int) -> bool:
    """Whether the database says the user is an administrator."""
    from fynix.users.models import User

    with app.app_context():
        return db.session.get(User, user_id).is_admin


@pytest.fixture
def pages(client) -> AdminPages:
    """An admin-pages session on ``client``, not signed in."""
    return AdminPages(client)


@pytest.fixture
def signed_in_admin(auth, pages) -> dict:
    """An admin user, signed in on ``pages``."""
    user, _headers = auth.new_user(admin=True)
    assert pages.login(user["username"]).status_code == 302
    return user

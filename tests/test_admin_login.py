"""Admin sign-in, sign-out, the guards on every admin page, CSRF and the login rate limit."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.admin_pages import AdminPages, flashes, is_admin
from tests.conftest import PASSWORD, AuthActions

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def test_anonymous_is_sent_to_login_with_the_page_asked_for(client):
    response = client.get("/admin/users?q=ann&page=2")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/admin/login"
    assert parse_qs(location.query)["next"] == ["/admin/users?q=ann&page=2"]


@pytest.mark.parametrize("path", ["/admin/", "/admin/cache", "/admin/database", "/admin/nope"])
def test_anonymous_never_sees_an_admin_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/admin/login"


def test_login_redirects_back_and_sets_a_strict_session_cookie(auth, pages):
    user, _ = auth.new_user(admin=True)
    response = pages.login(user["email"], next="/admin/database")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/database"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # a permanent session
    html = pages.text("/admin/database")
    assert f"Signed in as {user['username']}." in flashes(html)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/admin/",
        "//evil.example/admin/",
        "/\\evil.example/admin/",
        "javascript:alert(1)",
        "/api/users/me",
        "admin/cache",
    ],
)
def test_login_never_redirects_off_the_admin_pages(auth, pages, target):
    user, _ = auth.new_user(admin=True)
    response = pages.login(user["username"], next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize(
    ("login", "password"), [("right-user", "wrong-password-1"), ("nobody-here", PASSWORD)]
)
def test_failed_login_says_the_same_and_opens_nothing(auth, pages, login, password):
    auth.new_user(username="right-user")
    response = pages.login(login, password)
    assert response.status_code == 401
    assert "Invalid login or password." in flashes(response.get_data(as_text=True))
    assert pages.client.get("/admin/").status_code == 302


def test_logout_is_a_post_with_token_and_ends_the_session(signed_in_admin, pages):
    assert pages.client.get("/admin/").status_code == 200
    assert pages.client.get("/admin/logout").status_code in {404, 405}
    response = pages.post("/admin/logout")
    assert response.status_code == 302
    assert "Signed out." in flashes(pages.text("/admin/login"))
    assert pages.client.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/"),
        ("GET", "/admin/cache"),
        ("GET", "/admin/database"),
        ("GET", "/admin/users"),
        ("GET", "/admin/users/{id}/notify"),
        ("POST", "/admin/cache/clear"),
        ("POST", "/admin/database/upgrade"),
        ("POST", "/admin/users/{id}/grant-admin"),
    ],
)
def test_a_normal_users_session_gets_403_html_everywhere(auth, pages, method, path):
    user, _ = auth.new_user()
    assert pages.login(user["username"]).status_code == 302
    url = path.format(id=user["id"])
    response = pages.client.get(url) if method == "GET" else pages.post(url)
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert f"The account {user['username']} is not an administrator." in response.get_data(
        as_text=True
    )
    assert not is_admin(pages.client.application, user["id"])


def test_admin_pages_send_security_headers(signed_in_admin, pages):
    for path in ("/admin/", "/admin/login", "/admin/no-such-page", "/admin/static/admin.css"):
        response = pages.client.get(path)
        response.close()
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store"


def test_unknown_admin_page_is_an_html_404(signed_in_admin, pages):
    response = pages.client.get("/admin/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "There is no admin page at this address." in response.get_data(as_text=True)
    assert pages.client.get("/admin/users/999999/notify").status_code == 404
    assert pages.client.get(f"/admin/users/{2**40}/notify").status_code == 404


def test_pages_load_no_outside_resources(signed_in_admin, pages):
    for path in ("/admin/", "/admin/cache", "/admin/database", "/admin/users"):
        html = pages.text(path)
        assert not re.search(r'(src|href)="(https?:)?//', html), path
        assert "<script" not in html, path
        assert "style=" not in html, path


def test_the_favicon_admin_pages_link_is_served_by_the_app(signed_in_admin, pages):
    html = pages.text("/admin/")
    assert '<link rel="icon" href="/favicon.ico">' in html
    with pages.client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
        assert response.headers["Cache-Control"] == "public, max-age=86400"


# --- CSRF and rate limiting --------------------------------------------------------------


def test_a_form_post_without_csrf_token_is_refused(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    auth = AuthActions(app.test_client())
    pages = AdminPages(app.test_client())
    admin, _ = auth.new_user(admin=True)
    other, _ = auth.new_user()
    refused = pages.client.post(
        "/admin/login", data={"login": admin["username"], "password": PASSWORD}
    )
    assert refused.status_code == 400
    assert "security token" in refused.get_data(as_text=True)
    assert pages.login(admin["username"]).status_code == 302
    for data in ({}, {"csrf_token": "forged-token"}):
        response = pages.client.post(f"/admin/users/{other['id']}/grant-admin", data=data)
        assert response.status_code == 400
        assert response.mimetype == "text/html"
    assert not is_admin(app, other["id"])
    assert pages.client.post("/admin/logout").status_code == 400
    assert pages.client.get("/admin/").status_code == 200  # still signed in
    assert pages.post(f"/admin/users/{other['id']}/grant-admin").status_code == 302
    assert is_admin(app, other["id"])


def test_login_attempts_are_rate_limited(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, ADMIN_LOGIN_RATELIMIT="3 per minute")
    auth = AuthActions(app.test_client())
    pages = AdminPages(app.test_client())
    # An address of its own: the limits may live in a Redis that other runs share.
    octets = secrets.token_bytes(3)
    pages.client.environ_base["REMOTE_ADDR"] = "127." + ".".join(str(b) for b in octets)
    user, _ = auth.new_user(admin=True)
    statuses = [pages.login(user["username"], "wrong-password-1").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    limited = pages.login(user["username"])  # even the right password waits now
    assert limited.status_code == 429
    assert limited.mimetype == "text/html"
    assert "Too many attempts" in limited.get_data(as_text=True)
    assert pages.client.get("/admin/login").status_code == 200  # the form itself is not limited

"""Registration, login, tokens and the profile endpoints."""

from __future__ import annotations

import pytest


def test_register_returns_user_without_password(auth):
    response = auth.register(username="alice", email="Alice@Example.com")
    assert response.status_code == 201
    body = response.get_json()
    assert body["username"] == "alice"
    assert body["email"] == "alice@example.com"
    assert body["is_admin"] is False
    assert "password" not in body
    assert "password_hash" not in body


@pytest.mark.parametrize("field", ["email", "username"])
def test_register_duplicate_is_409(auth, field):
    assert auth.register(username="bob", email="bob@example.com").status_code == 201
    clash = {"email": "BOB@example.com"} if field == "email" else {"email": "other@example.com"}
    response = auth.register(username="bob" if field == "username" else "bobby", **clash)
    assert response.status_code == 409
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"username": "carol", "password": "long-enough-1"}, "email"),
        ({"email": "not-an-email", "username": "carol", "password": "long-enough-1"}, "email"),
        ({"email": "c@example.com", "username": "x", "password": "long-enough-1"}, "username"),
        ({"email": "c@example.com", "username": "carol", "password": "short"}, "password"),
        ({"email": "c@example.com", "username": "carol", "password": 12345678}, "password"),
    ],
)
def test_register_validation_is_422_with_field(client, payload, field):
    response = client.post("/api/auth/register", json=payload)
    assert response.status_code == 422
    body = response.get_json()
    assert field in body["errors"]
    assert body["message"]


def test_malformed_json_is_400(client):
    response = client.post("/api/auth/register", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["message"]


@pytest.mark.parametrize("login", ["dave", "dave@example.com", "DAVE@example.com"])
def test_login_by_email_or_username(auth, login):
    auth.register(username="dave", email="dave@example.com")
    headers = auth.login(login)
    me = auth.client.get("/api/users/me", headers=headers)
    assert me.status_code == 200
    assert me.get_json()["username"] == "dave"


@pytest.mark.parametrize(("login", "password"), [("erin", "wrong-password"), ("nobody", "x" * 9)])
def test_login_failure_does_not_say_which_part(auth, login, password):
    auth.register(username="erin")
    response = auth.client.post("/api/auth/login", json={"login": login, "password": password})
    assert response.status_code == 401
    assert response.get_json()["message"] == "Invalid login or password."


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer not-a-token", "Basic Zm9vOmJhcg==", "Bearer eyJhbGciOiJub25lIn0.e30."],
)
def test_missing_or_bad_token_is_401(client, header):
    response = client.get("/api/users/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401


def _stamp(app, user_id: int) -> str:
    from fynix.extensions import db
    from fynix.users.models import User

    with app.app_context():
        return db.session.get(User, user_id).security_stamp


def test_expired_token_is_401(app_factory, auth):
    user, _ = auth.new_user()
    short = app_factory(ACCESS_TOKEN_TTL=-1)
    with short.test_request_context():
        from fynix.auth.tokens import issue_token

        token, _ = issue_token(user["id"], _stamp(short, user["id"]))
    response = auth.client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_token_signed_with_another_key_is_401(app_factory, auth):
    user, _ = auth.new_user()
    other = app_factory(SECRET_KEY="another-secret-key-of-enough-length-xyz")
    with other.test_request_context():
        from fynix.auth.tokens import issue_token

        token, _ = issue_token(user["id"], _stamp(other, user["id"]))
    response = auth.client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_patch_me_changes_username_and_conflicts(auth):
    _, headers = auth.new_user(username="frank")
    auth.new_user(username="grace")
    ok = auth.client.patch("/api/users/me", json={"username": "franky"}, headers=headers)
    assert ok.status_code == 200
    assert ok.get_json()["username"] == "franky"
    clash = auth.client.patch("/api/users/me", json={"username": "grace"}, headers=headers)
    assert clash.status_code == 409
    empty = auth.client.patch("/api/users/me", json={}, headers=headers)
    assert empty.status_code == 422

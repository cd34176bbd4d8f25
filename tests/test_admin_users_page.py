"""The admin users page: roles, sending a notification, search, pages and per-user counts."""

from __future__ import annotations

import re

import pytest

from fynix.extensions import db
from tests.admin_pages import flashes, is_admin
from tests.conftest import captured_sql


def test_grant_and_revoke_admin(signed_in_admin, auth, pages):
    user, headers = auth.new_user()
    assert auth.client.get("/api/users/me", headers=headers).get_json()["is_admin"] is False
    response = pages.post(
        f"/admin/users/{user['id']}/grant-admin", {"return_to": "/admin/users?q=user"}
    )
    assert response.headers["Location"] == "/admin/users?q=user"
    assert f"{user['username']} is now an administrator." in flashes(pages.text("/admin/users"))
    assert auth.client.get("/api/users/me", headers=headers).get_json()["is_admin"] is True
    pages.post(f"/admin/users/{user['id']}/revoke-admin")
    assert f"{user['username']} is no longer an administrator." in flashes(
        pages.text("/admin/users")
    )
    assert auth.client.get("/api/users/me", headers=headers).get_json()["is_admin"] is False


def test_an_admin_cannot_change_their_own_role(signed_in_admin, pages):
    pages.post(f"/admin/users/{signed_in_admin['id']}/revoke-admin")
    assert "You cannot change your own admin role." in flashes(pages.text("/admin/users"))
    assert is_admin(pages.client.application, signed_in_admin["id"])
    assert pages.client.get("/admin/").status_code == 200


def test_send_notification_appears_in_the_users_api_at_once(signed_in_admin, auth, pages):
    user, headers = auth.new_user()
    before = auth.client.get("/api/notifications", headers=headers)
    assert before.get_json()["total"] == 0
    assert auth.client.get("/api/notifications", headers=headers).get_json()["total"] == 0
    form = pages.text(f"/admin/users/{user['id']}/notify?return_to=/admin/users")
    assert user["username"] in form
    response = pages.post(
        f"/admin/users/{user['id']}/notify",
        {
            "type": "system",
            "title": "  Maintenance  ",
            "body": "Tonight at 22:00 UTC.",
            "return_to": "/admin/users",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users"
    shown = flashes(pages.text("/admin/users"))
    assert any(f"“Maintenance” to {user['username']}" in flash for flash in shown)
    items = auth.client.get("/api/notifications", headers=headers).get_json()["items"]
    assert [(n["type"], n["title"], n["body"]) for n in items] == [
        ("system", "Maintenance", "Tonight at 22:00 UTC.")
    ]
    count = auth.client.get("/api/notifications/unread-count", headers=headers).get_json()
    assert count == {"unread_count": 1}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"type": "Bad Type!", "title": "t", "body": "b"}, "lowercase letters"),
        ({"type": "system", "title": "   ", "body": "b"}, "This field is required."),
        ({"type": "system", "title": "t" * 201, "body": "b"}, "200"),
    ],
)
def test_invalid_notification_is_refused_and_nothing_sent(
    signed_in_admin, auth, pages, data, error
):
    user, headers = auth.new_user()
    response = pages.post(f"/admin/users/{user['id']}/notify", data)
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert auth.client.get("/api/notifications", headers=headers).get_json()["total"] == 0


def _make_users(app, prefix: str, count: int) -> list[int]:
    from fynix.users.models import User

    with app.app_context():
        users = [
            User(email=f"{prefix}{n}@example.com", username=f"{prefix}{n}", password_hash="x")
            for n in range(count)
        ]
        db.session.add_all(users)
        db.session.commit()
        return [user.id for user in users]


def test_users_search_is_case_insensitive_and_paginates_by_20(signed_in_admin, pages):
    _make_users(pages.client.application, "pager", 23)
    _make_users(pages.client.application, "other", 2)
    first = pages.text("/admin/users?q=PAGER")
    assert first.count('class="user-row"') == 20
    assert "Page 1 of 2 · 23 total" in first
    second = pages.text("/admin/users?q=PAGER&page=2")
    assert second.count('class="user-row"') == 3
    assert "other0" not in first + second
    by_email = pages.text("/admin/users?q=other1%40EXAMPLE")
    assert by_email.count('class="user-row"') == 1
    wildcard = pages.text("/admin/users?q=%25")
    assert wildcard.count('class="user-row"') == 0  # % is a character, not a wildcard
    assert pages.text("/admin/users?page=abc").count('class="user-row"') >= 1


def _add_positions_and_unread(app, user_id: int, positions: int, unread: int) -> None:
    from decimal import Decimal

    from fynix.notifications.models import Notification
    from fynix.portfolio.models import Position

    with app.app_context():
        for n in range(positions):
            db.session.add(
                Position(
                    user_id=user_id, symbol=f"SYM{n}", quantity=Decimal(1), average_cost=Decimal(2)
                )
            )
        for n in range(unread + 1):
            db.session.add(
                Notification(
                    user_id=user_id, type="system", title=f"t{n}", body="b", is_read=n == unread
                )
            )
        db.session.commit()


def _count_statements(app, client, path: str) -> int:
    with captured_sql(app) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def test_users_page_shows_counts_with_grouped_queries(signed_in_admin, pages):
    app = pages.client.application
    ids = _make_users(app, "counted", 6)
    _add_positions_and_unread(app, ids[0], positions=3, unread=2)
    _add_positions_and_unread(app, ids[1], positions=1, unread=0)
    html = pages.text("/admin/users?q=counted")
    found = re.findall(
        r'data-user-id="(\d+)">.*?positions-count" data-label="Positions">(\d+)</td>\s*'
        r'<td class="num unread-count" data-label="Unread">(\d+)</td>',
        html,
        re.S,
    )
    rows = {int(uid): (int(p), int(u)) for uid, p, u in found}
    assert rows[ids[0]] == (3, 2)
    assert rows[ids[1]] == (1, 0)
    assert rows[ids[5]] == (0, 0)
    few = _count_statements(app, pages.client, "/admin/users?q=counted1")
    many = _count_statements(app, pages.client, "/admin/users?q=counted")
    assert few == many  # no query per user

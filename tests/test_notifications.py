"""Notifications: listing with filters, unread count, read, read-all, delete, admin send."""

from __future__ import annotations

import re

import pytest

from fynix.extensions import db
from tests.conftest import ACCOUNT_CHECK, captured_sql
from tests.factories import send_notification

URL = "/api/notifications"


def unread_count(client, headers) -> int:
    response = client.get(f"{URL}/unread-count", headers=headers)
    assert response.status_code == 200
    return response.get_json()["unread_count"]


def listed_ids(client, headers, query: str = "") -> list[int]:
    response = client.get(f"{URL}{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_admin_sends_and_recipient_sees_it(client, auth, admin_headers):
    user, headers = auth.new_user()
    sent = send_notification(
        client, admin_headers, user["id"], type="price_alert", title=" AAPL up ", body="+5%"
    )
    assert sent["user_id"] == user["id"]
    assert (sent["type"], sent["title"], sent["body"]) == ("price_alert", "AAPL up", "+5%")
    assert sent["is_read"] is False
    assert sent["read_at"] is None
    assert sent["created_at"].endswith("+00:00")
    page = client.get(URL, headers=headers).get_json()
    assert page == {"items": [sent], "page": 1, "per_page": 20, "total": 1}
    assert unread_count(client, headers) == 1


def test_send_requires_admin(client, auth):
    user, headers = auth.new_user()
    body = {"user_id": user["id"], "type": "info", "title": "t", "body": "b"}
    assert client.post(URL, json=body).status_code == 401
    forbidden = client.post(URL, json=body, headers=headers)
    assert forbidden.status_code == 403
    assert forbidden.get_json()["message"]
    assert unread_count(client, headers) == 0


def test_send_to_unknown_user_is_404(client, admin_headers):
    response = client.post(
        URL,
        json={"user_id": 999999, "type": "info", "title": "t", "body": "b"},
        headers=admin_headers,
    )
    assert response.status_code == 404
    assert "No user with this id" in response.get_json()["message"]


def test_send_notification_service_is_reusable(app, auth):
    user, headers = auth.new_user()
    with app.app_context():
        from fynix.errors import APIError
        from fynix.notifications import services

        notification = services.send_notification(user["id"], "digest", "Weekly", "Your week")
        assert notification.id
        assert notification.is_read is False
        with pytest.raises(APIError) as error:
            services.send_notification(user["id"] + 1000, "digest", "Weekly", "Your week")
        assert error.value.status == 404
    assert unread_count(app.test_client(), headers) == 1


VALID = {"type": "info", "title": "Title", "body": "Body"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"user_id": None}, "user_id"),
        ({"user_id": "1"}, "user_id"),
        ({"user_id": 0}, "user_id"),
        ({"user_id": 2**40}, "user_id"),
        ({"user_id": True}, "user_id"),
        ({"type": None}, "type"),
        ({"type": "Price"}, "type"),
        ({"type": "has space"}, "type"),
        ({"type": "x" * 33}, "type"),
        ({"type": ""}, "type"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"title": 5}, "title"),
        ({"body": ""}, "body"),
        ({"body": "\n\t"}, "body"),
        ({"body": "b" * 5001}, "body"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_send_validation_is_422_with_field(client, auth, admin_headers, changes, field):
    user, headers = auth.new_user()
    body = {"user_id": user["id"], **VALID, **changes}
    body = {key: value for key, value in body.items() if value is not None}
    response = client.post(URL, json=body, headers=admin_headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert unread_count(client, headers) == 0


def test_send_malformed_json_is_400(client, admin_headers):
    response = client.post(
        URL, data='{"user_id": 1,', content_type="application/json", headers=admin_headers
    )
    assert response.status_code == 400
    assert response.get_json()["message"]


def test_list_is_own_and_newest_first(client, auth, admin_headers):
    alice, alice_headers = auth.new_user()
    bob, bob_headers = auth.new_user()
    mine = [
        send_notification(client, admin_headers, alice["id"], title=f"n{i}")["id"] for i in range(3)
    ]
    theirs = send_notification(client, admin_headers, bob["id"])["id"]
    assert listed_ids(client, alice_headers) == mine[::-1]
    assert listed_ids(client, bob_headers) == [theirs]
    items = client.get(URL, headers=alice_headers).get_json()["items"]
    stamps = [item["created_at"] for item in items]
    assert stamps == sorted(stamps, reverse=True)


def test_filters_unread_and_type(client, auth, admin_headers):
    user, headers = auth.new_user()
    alert = send_notification(client, admin_headers, user["id"], type="price_alert")["id"]
    info = send_notification(client, admin_headers, user["id"], type="info")["id"]
    read_alert = send_notification(client, admin_headers, user["id"], type="price_alert")["id"]
    assert client.post(f"{URL}/{read_alert}/read", headers=headers).status_code == 200
    assert listed_ids(client, headers, "?unread=true") == [info, alert]
    assert listed_ids(client, headers, "?unread=false") == [read_alert]
    assert listed_ids(client, headers, "?type=price_alert") == [read_alert, alert]
    assert listed_ids(client, headers, "?type=price_alert&unread=true") == [alert]
    assert listed_ids(client, headers, "?type=other") == []
    # Only the words true and false: "1" is 422, as the document's boolean says.
    assert client.get(f"{URL}?unread=1", headers=headers).status_code == 422


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("unread=maybe", "unread"),
        ("type=Price", "type"),
        ("type=" + "x" * 33, "type"),
        ("type=a%20b", "type"),
        ("page=0", "page"),
        ("per_page=0", "per_page"),
        ("per_page=abc", "per_page"),
    ],
)
def test_list_bad_query_is_422(client, auth, query, field):
    _, headers = auth.new_user()
    response = client.get(f"{URL}?{query}", headers=headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_pagination_shape_and_range(client, auth, admin_headers):
    user, headers = auth.new_user()
    ids = [send_notification(client, admin_headers, user["id"])["id"] for _ in range(5)][::-1]
    second = client.get(f"{URL}?page=2&per_page=2", headers=headers).get_json()
    assert [item["id"] for item in second["items"]] == ids[2:4]
    assert (second["page"], second["per_page"], second["total"]) == (2, 2, 5)
    beyond = client.get(f"{URL}?page=9&per_page=2", headers=headers).get_json()
    assert beyond["items"] == []
    assert beyond["total"] == 5
    assert client.get(f"{URL}?per_page=1000", headers=headers).status_code == 422
    largest = client.get(f"{URL}?per_page=100", headers=headers).get_json()
    assert (largest["per_page"], len(largest["items"])) == (100, 5)


def test_mark_read_is_idempotent_and_keeps_read_at(client, auth, admin_headers):
    user, headers = auth.new_user()
    first = send_notification(client, admin_headers, user["id"])["id"]
    send_notification(client, admin_headers, user["id"])
    assert unread_count(client, headers) == 2
    once = client.post(f"{URL}/{first}/read", headers=headers)
    assert once.status_code == 200
    body = once.get_json()
    assert body["id"] == first
    assert body["is_read"] is True
    assert body["read_at"]
    again = client.post(f"{URL}/{first}/read", headers=headers).get_json()
    assert again["read_at"] == body["read_at"]
    assert unread_count(client, headers) == 1


def test_read_all_updates_only_own_unread(client, auth, admin_headers):
    user, headers = auth.new_user()
    other, other_headers = auth.new_user()
    ids = [send_notification(client, admin_headers, user["id"])["id"] for _ in range(3)]
    send_notification(client, admin_headers, other["id"])
    client.post(f"{URL}/{ids[0]}/read", headers=headers)
    assert unread_count(client, headers) == 2
    response = client.post(f"{URL}/read-all", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"updated": 2}
    assert unread_count(client, headers) == 0
    assert client.post(f"{URL}/read-all", headers=headers).get_json() == {"updated": 0}
    assert unread_count(client, other_headers) == 1
    items = client.get(URL, headers=headers).get_json()["items"]
    assert all(item["is_read"] and item["read_at"] for item in items)


def test_delete_removes_and_updates_count(client, auth, admin_headers):
    user, headers = auth.new_user()
    keep = send_notification(client, admin_headers, user["id"])["id"]
    gone = send_notification(client, admin_headers, user["id"])["id"]
    assert unread_count(client, headers) == 2
    response = client.delete(f"{URL}/{gone}", headers=headers)
    assert response.status_code == 204
    assert response.data == b""
    assert listed_ids(client, headers) == [keep]
    assert unread_count(client, headers) == 1
    assert client.delete(f"{URL}/{gone}", headers=headers).status_code == 404
    assert client.post(f"{URL}/{gone}/read", headers=headers).status_code == 404


@pytest.mark.parametrize(("method", "suffix"), [("post", "/read"), ("delete", "")])
def test_another_users_notification_is_404_and_unchanged(
    client, auth, admin_headers, method, suffix
):
    owner, owner_headers = auth.new_user()
    _, intruder = auth.new_user()
    target = send_notification(client, admin_headers, owner["id"])["id"]
    response = getattr(client, method)(f"{URL}/{target}{suffix}", headers=intruder)
    assert response.status_code == 404
    assert response.get_json()["message"] == "Notification not found."
    assert listed_ids(client, owner_headers, "?unread=true") == [target]


@pytest.mark.parametrize(("method", "suffix"), [("post", "/read"), ("delete", "")])
@pytest.mark.parametrize("notification_id", [0, 424242, 2**31, 10**30])
def test_unknown_id_is_404(client, auth, method, suffix, notification_id):
    _, headers = auth.new_user()
    response = getattr(client, method)(f"{URL}/{notification_id}{suffix}", headers=headers)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("get", "/unread-count"),
        ("post", "/read-all"),
        ("post", "/1/read"),
        ("delete", "/1"),
    ],
)
def test_anonymous_is_401(client, method, path):
    response = getattr(client, method)(f"{URL}{path}")
    assert response.status_code == 401
    assert response.get_json()["message"]


def test_queries_use_the_notification_indexes(app_factory, auth, admin_headers):
    """Few statements, and each filter is served by its index (EXPLAIN on both dialects)."""
    app = app_factory(CACHE_ENABLED=False)
    client = app.test_client()
    user, headers = auth.new_user()
    send_notification(auth.client, admin_headers, user["id"], type="price_alert")
    expected = {
        "?unread=true": "idx_notifications_user_unread_created",
        "?type=price_alert": "idx_notifications_user_type_created",
        "/unread-count": "idx_notifications_user_unread",
    }
    for suffix, index in expected.items():
        with captured_sql(app) as statements:
            assert client.get(f"{URL}{suffix}", headers=headers).status_code == 200
        assert len(statements) == ACCOUNT_CHECK + (1 if suffix == "/unread-count" else 2)
        statement, parameters = statements[-1]
        if "unread" in index:
            # A literal, not a parameter: a generic plan of `is_read = $1` cannot use it.
            assert re.search(r"is_read = (false|0)\b", statement), statement
        assert index in explain(app, index, statement, parameters)


NOTIFICATION_INDEXES = (
    "idx_notifications_user_unread",
    "idx_notifications_user_unread_created",
    "idx_notifications_user_created",
    "idx_notifications_user_type_created",
    "idx_notifications_type_created",
)


def explain(app, index: str, statement: str, parameters) -> str:
    """The plan of ``statement``; on PostgreSQL with only ``index`` left to choose from.

    PostgreSQL plans a tiny test table by cost, so the other indexes are dropped in a
    transaction that is rolled back: the plan then shows whether ``index`` (with its
    partial predicate) can serve the statement at all. SQLite picks it unaided.
    """
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            for other in NOTIFICATION_INDEXES:
                if other != index:
                    connection.exec_driver_sql(f"DROP INDEX {other}")
            rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        else:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        connection.rollback()
    return " ".join(str(value) for row in rows for value in row)


@pytest.mark.redis
def test_cached_reads_are_fresh_after_every_write(redis_app):
    """Stale-then-fresh on Redis: a HIT serves the cached answer until a write changes it."""
    from tests.conftest import AuthActions

    client = redis_app.test_client()
    auth = AuthActions(client)
    user, headers = auth.new_user()
    _, admin_headers = auth.new_user(admin=True)
    first = send_notification(client, admin_headers, user["id"])["id"]

    def read(path: str):
        response = client.get(f"{URL}{path}", headers=headers)
        assert response.status_code == 200
        return response.headers["X-Cache"], response.get_json()

    assert read("/unread-count") == ("MISS", {"unread_count": 1})
    assert read("/unread-count") == ("HIT", {"unread_count": 1})
    assert read("?unread=true")[1]["total"] == 1
    assert read("?unread=true")[0] == "HIT"
    second = send_notification(client, admin_headers, user["id"])["id"]
    assert read("/unread-count")[1] == {"unread_count": 2}
    assert [item["id"] for item in read("?unread=true")[1]["items"]] == [second, first]
    client.post(f"{URL}/{first}/read", headers=headers)
    assert read("/unread-count")[1] == {"unread_count": 1}
    assert [item["id"] for item in read("?unread=true")[1]["items"]] == [second]
    client.post(f"{URL}/read-all", headers=headers)
    assert read("/unread-count")[1] == {"unread_count": 0}
    assert read("?unread=true")[1]["items"] == []
    client.delete(f"{URL}/{second}", headers=headers)
    assert [item["id"] for item in read("")[1]["items"]] == [first]

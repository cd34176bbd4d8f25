"""Concurrent writes to one row: the database settles the race, never a 500.

Each pair of writes to the same row is sent from two threads released together by a
barrier, ROUNDS times, against the suite's database (CI runs it on PostgreSQL and on
SQLite). Whatever the interleaving, each request gets its normal answer or a 404 (a 409
for a unique clash), and the row ends in a state one of the orders explains.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.conftest import World

ROUNDS = 20
POSITIONS = "/api/portfolio/positions"
NOTIFICATIONS = "/api/notifications"

Request = tuple[str, str, dict | None]  # method, url, JSON body


def race(app, headers: list[dict], requests: list[Request]) -> list[int]:
    """Send ``requests`` at once from one thread each; their statuses, in order."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int | None] = [None] * len(requests)

    def send(index: int) -> None:
        client = app.test_client()
        method, url, body = requests[index]
        barrier.wait(timeout=10)
        statuses[index] = client.open(
            url, method=method, json=body, headers=headers[index]
        ).status_code

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return statuses


def repeat(app, world: World, make: Callable[[], list[Request]], allowed: set[tuple]) -> None:
    """Race ``make()``'s requests ROUNDS times as the user; every outcome in ``allowed``."""
    outcomes = []
    for _ in range(ROUNDS):
        requests = make()
        outcomes.append(tuple(race(app, [world.user_headers] * len(requests), requests)))
    assert set(outcomes) <= allowed, outcomes


def test_position_patch_against_delete(app, world):
    def make() -> list[Request]:
        url = f"{POSITIONS}/{world.position_id()}"
        return [("PATCH", url, {"quantity": "7"}), ("DELETE", url, None)]

    repeat(app, world, make, {(200, 204), (404, 204)})
    assert world.client.get(POSITIONS, headers=world.user_headers).get_json()["total"] == 0


def test_position_delete_against_delete(app, world):
    def make() -> list[Request]:
        url = f"{POSITIONS}/{world.position_id()}"
        return [("DELETE", url, None), ("DELETE", url, None)]

    repeat(app, world, make, {(204, 404), (404, 204)})


def test_position_patch_against_patch(app, world):
    urls = []

    def make() -> list[Request]:
        urls.append(f"{POSITIONS}/{world.position_id()}")
        return [("PATCH", urls[-1], {"quantity": "5"}), ("PATCH", urls[-1], {"quantity": "6"})]

    repeat(app, world, make, {(200, 200)})
    for url in urls:
        quantity = world.client.get(url, headers=world.user_headers).get_json()["quantity"]
        assert quantity in {"5.00", "6.00"}


def test_notification_read_against_delete(app, world):
    def make() -> list[Request]:
        url = f"{NOTIFICATIONS}/{world.notification_id()}"
        return [("POST", f"{url}/read", None), ("DELETE", url, None)]

    repeat(app, world, make, {(200, 204), (404, 204)})


def test_notification_read_against_read(app, world):
    ids = []

    def make() -> list[Request]:
        ids.append(world.notification_id())
        url = f"{NOTIFICATIONS}/{ids[-1]}/read"
        return [("POST", url, None), ("POST", url, None)]

    repeat(app, world, make, {(200, 200)})
    page = world.client.get(f"{NOTIFICATIONS}?per_page=100", headers=world.user_headers)
    assert all(item["is_read"] and item["read_at"] for item in page.get_json()["items"])


def test_notification_read_all_against_delete(app, world):
    def make() -> list[Request]:
        url = f"{NOTIFICATIONS}/{world.notification_id()}"
        return [("POST", f"{NOTIFICATIONS}/read-all", None), ("DELETE", url, None)]

    repeat(app, world, make, {(200, 204)})


def test_notification_delete_against_delete(app, world):
    def make() -> list[Request]:
        url = f"{NOTIFICATIONS}/{world.notification_id()}"
        return [("DELETE", url, None), ("DELETE", url, None)]

    repeat(app, world, make, {(204, 404), (404, 204)})


def test_profile_patches_that_clash_on_a_unique_username(app, world):
    _, other = world.auth.new_user()
    outcomes = []
    for _ in range(ROUNDS):
        body = {"username": world.unique("wanted")}
        statuses = race(app, [world.user_headers, other], [("PATCH", "/api/users/me", body)] * 2)
        outcomes.append(tuple(statuses))
    assert set(outcomes) <= {(200, 409), (409, 200)}, outcomes


def test_profile_patch_against_patch_of_the_same_user(app, world):
    def make() -> list[Request]:
        return [("PATCH", "/api/users/me", {"username": world.unique("me")}) for _ in range(2)]

    repeat(app, world, make, {(200, 200)})

"""Invalidations Redis could not take are owed, and no process of the host forgets them:
not a command's delivery while a replay hangs, not a worker restarted by a deploy, not the
other workers, which would otherwise keep serving what the write made stale."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis

from fynix.caching.backends import redis_target
from fynix.caching.manager import get_manager
from fynix.caching.owed import CLEAR_ALL, MAX_FILE_BYTES, OwedInvalidations
from tests.conftest import AuthActions, wait_for
from tests.processes import start_redis

pytestmark = pytest.mark.redis

POSITION = {"symbol": "AAPL", "quantity": "2", "average_cost": "10"}


def test_a_replay_in_flight_is_still_owed(app_factory, own_redis):
    app = app_factory(REDIS_URL=own_redis.url)
    manager = get_manager(app)
    own_redis.pause()  # writes hang until the socket timeout
    try:
        manager.bump([f"{manager.prefix}:portfolio:{{u1.x}}:gen"])
        assert manager.pending_invalidations == 1
        replay = threading.Thread(target=manager.recover)
        replay.start()
        time.sleep(0.05)  # the replay is now waiting for Redis
        assert manager.pending_invalidations == 1
        assert not manager.deliver_pending(0.0)
        replay.join()
    finally:
        own_redis.resume()
    assert manager.deliver_pending(5.0)
    assert manager.pending_invalidations == 0


@pytest.fixture
def restorable_redis(tmp_path):
    """A redis-server that can be stopped and started again from a dump (a restore, or a
    restart of a Redis that persists): what it had before the outage comes back."""
    extra = ["--dir", str(tmp_path), "--dbfilename", "dump.rdb"]
    servers = [start_redis(extra=extra)]

    class Restorable:
        url = servers[0].url

        def save_and_stop(self) -> None:
            with redis.Redis.from_url(self.url) as client:
                client.save()
            servers[-1].stop()

        def start_from_dump(self) -> None:
            servers.append(start_redis(port=servers[0].port, extra=extra))

        def snapshot(self) -> None:
            with redis.Redis.from_url(self.url) as client:
                client.save()

        def crash(self) -> None:
            """Stop without saving: what it acknowledged since the snapshot is gone."""
            servers[-1].stop()

    yield Restorable()
    servers[-1].stop()


@pytest.fixture
def deployment(app, app_factory, restorable_redis, tmp_path):  # `app`: empties the tables
    """Build apps of one deployment on one host: same Redis, prefix and local folder."""
    shared = {
        "REDIS_URL": restorable_redis.url,
        "CACHE_KEY_PREFIX": f"fynixtest-{uuid.uuid4().hex[:8]}",
        "CACHE_LOCAL_DIR": str(tmp_path),
        "CACHE_BREAKER_COOLDOWN": 0.5,
    }
    return lambda: app_factory(**shared)


def _cached_summary(client, headers) -> None:
    client.get("/api/portfolio/summary", headers=headers)
    assert client.get("/api/portfolio/summary", headers=headers).headers["X-Cache"] == "HIT"


def _write_during_an_outage(writer, redis_server, headers) -> None:
    """A write while Redis is down, then Redis back with what it had before (its write is
    lost), and the writer gone with what it owed (a deploy restarted it)."""
    redis_server.save_and_stop()
    response = writer.post("/api/portfolio/positions", json=POSITION, headers=headers)
    assert response.status_code == 201
    assert get_manager(writer.application).pending_invalidations >= 1
    get_manager(writer.application).close()
    redis_server.start_from_dump()


def test_a_worker_restarted_before_redis_came_back_leaves_its_debt_to_the_next(
    deployment, restorable_redis
):
    writer = deployment().test_client()
    _, headers = AuthActions(writer).new_user()
    _cached_summary(writer, headers)
    _write_during_an_outage(writer, restorable_redis, headers)

    restarted = deployment().test_client()  # the next worker of the host
    summary = restarted.get("/api/portfolio/summary", headers=headers)
    assert summary.get_json()["positions_count"] == 1
    assert get_manager(restarted.application).pending_invalidations == 0


def test_the_other_workers_of_the_host_stop_serving_what_a_write_made_stale(
    deployment, restorable_redis
):
    writer, other = deployment().test_client(), deployment().test_client()
    _, headers = AuthActions(writer).new_user()
    _cached_summary(other, headers)
    _write_during_an_outage(writer, restorable_redis, headers)

    def other_sees_the_write() -> bool:
        response = other.get("/api/portfolio/summary", headers=headers)
        return response.get_json()["positions_count"] == 1

    assert wait_for(other_sees_the_write, seconds=5)


def test_the_host_file_keeps_what_was_owed_again_and_drops_what_was_delivered(tmp_path):
    path = tmp_path / "owed.txt"
    writer, other = OwedInvalidations(path), OwedInvalidations(path)
    writer.add(["p:portfolio:{u1.a}:gen", "p:ai:{u1.a}:gen"])
    other.adopt()
    assert set(other.due()) == {"p:portfolio:{u1.a}:gen", "p:ai:{u1.a}:gen"}

    replayed = writer.due()
    writer.add(["p:ai:{u1.a}:gen"])  # owed again while the replay was in flight
    writer.settle(replayed)
    assert set(writer.due()) == {"p:ai:{u1.a}:gen"}
    assert {line.split()[1] for line in path.read_text().splitlines()} == {"p:ai:{u1.a}:gen"}

    later = OwedInvalidations(path)  # a process started after all this
    later.adopt()
    assert set(later.due()) == {"p:ai:{u1.a}:gen"}


def test_a_damaged_host_file_is_read_around_its_bad_lines(tmp_path):
    path = tmp_path / "owed.txt"
    path.write_bytes(b"\xff\xfe not a line\n0123456789abcdef p:ai:{u1.a}:gen\ntorn-li")
    owed = OwedInvalidations(path)
    owed.adopt()
    assert set(owed.due()) == {"p:ai:{u1.a}:gen"}
    owed.settle(owed.due())
    assert b"p:ai" not in path.read_bytes()


def test_an_unusable_host_file_keeps_the_debt_in_the_process(tmp_path, caplog):
    path = tmp_path / "owed.txt"
    path.mkdir()  # e.g. another user's file, a full disk: it cannot be opened for writing
    owed = OwedInvalidations(path)
    owed.add(["p:ai:{u1.a}:gen"])
    owed.adopt()
    assert set(owed.due()) == {"p:ai:{u1.a}:gen"}
    owed.settle(owed.due())
    assert owed.count == 0
    assert "unusable" in caplog.text


def test_writes_during_an_outage_answer_normally_when_the_host_file_is_unusable(
    app, app_factory, own_redis, tmp_path
):
    (tmp_path / "blocked").write_text("not a directory")
    app = app_factory(REDIS_URL=own_redis.url, CACHE_LOCAL_DIR=str(tmp_path / "blocked"))
    client = app.test_client()
    _, headers = AuthActions(client).new_user()
    own_redis.stop()
    response = client.post("/api/portfolio/positions", json=POSITION, headers=headers)
    assert response.status_code == 201
    assert client.get("/api/portfolio/summary", headers=headers).status_code == 200


def test_a_host_file_past_its_size_owes_everything_in_one_line(tmp_path):
    path = tmp_path / "owed.txt"
    owed = OwedInvalidations(path)
    key = "p:notifications:{u%d.a}:gen"
    for start in range(0, 30_000, 1_000):
        owed.add([key % n for n in range(start, start + 1_000)])
    assert path.stat().st_size < 2 * MAX_FILE_BYTES
    later = OwedInvalidations(path)
    later.adopt()
    assert CLEAR_ALL in later.due()


def test_one_redis_spelled_two_ways_has_one_host_file():
    plain = redis_target({"REDIS_URL": "redis://cache.internal:6379"})
    assert plain == redis_target({"REDIS_URL": "redis://:s3cret@cache.internal/0"})
    assert plain != redis_target({"REDIS_URL": "redis://cache.internal:6379/1"})


def test_a_redis_back_from_an_older_snapshot_is_noticed_and_its_old_entries_distrusted(
    deployment, restorable_redis
):
    """Nothing was owed: Redis acknowledged the write's invalidation, then lost it."""
    reader, writer = deployment().test_client(), deployment().test_client()
    _, headers = AuthActions(writer).new_user()
    _cached_summary(reader, headers)
    wait_for(lambda: get_manager(reader.application).server_watch.ids is not None, seconds=5)
    restorable_redis.snapshot()
    response = writer.post("/api/portfolio/positions", json=POSITION, headers=headers)
    assert response.status_code == 201
    assert get_manager(writer.application).pending_invalidations == 0  # acknowledged
    restorable_redis.crash()
    restorable_redis.start_from_dump()

    def reader_sees_the_write() -> bool:
        response = reader.get("/api/portfolio/summary", headers=headers)
        return response.get_json()["positions_count"] == 1

    assert wait_for(reader_sees_the_write, seconds=5)
    restarted = deployment().test_client()  # a process that never saw the old server
    assert (
        restarted.get("/api/portfolio/summary", headers=headers).get_json()["positions_count"] == 1
    )

"""Faults injected while a mixed read/write workload runs through gunicorn with 2 workers.

Redis killed then restarted, Redis hung (SIGSTOP) then resumed, PostgreSQL backends
terminated, a gunicorn worker SIGKILLed. Each test counts what the clients saw (5xx,
connection errors, stale reads, X-Cache) and appends its figures to
artifacts/reliability.json; docs/reliability.md summarises a run. Every process is
ours, on loopback, stopped by PID; every phase is bounded in time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time

import pytest
import sqlalchemy as sa

from tests.gunicorn_server import served_env, start_gunicorn
from tests.services import start_redis
from tests.workload import Workload, make_users, record_result

pytestmark = [pytest.mark.redis, pytest.mark.slow]

CLIENTS = 6  # concurrent closed-loop clients, one user each
WARMUP = 1.5
FAULT = 3.0
RECOVERY_LIMIT = 10.0  # cache hits again within this many seconds of recovery
AFTER = 1.0


def is_hit(outcome) -> bool:
    """A response served from Redis."""
    return outcome.cache == "HIT"


@pytest.fixture
def start_server(app_factory, own_redis):
    """Start gunicorn (2 workers) on a database and this test's Redis; empties tables after."""
    from tests.conftest import empty_tables

    started = []

    def start(database_url: str):
        server = start_gunicorn(
            served_env(database_url, own_redis.url),
            workers=2,
        )
        started.append((server, database_url))
        return server

    yield start
    for server, url in started:
        server.stop()
        empty_tables(app_factory(SQLALCHEMY_DATABASE_URI=url))


def _restart(own_redis) -> None:
    """Start a new, empty redis-server on the killed one's port."""
    restarted = start_redis(port=own_redis.port)
    shutil.rmtree(own_redis.workdir, ignore_errors=True)
    own_redis.process, own_redis.workdir = restarted.process, restarted.workdir


def _phases(load: Workload, fault: str, lifted: str) -> dict:
    marks = load.marks
    return {
        "before": load.summary(until=marks[fault]),
        "during": load.summary(marks[fault], marks[lifted]),
        "after": load.summary(since=marks[lifted]),
        "whole": load.summary(),
        "clients": CLIENTS,
        "seconds": round(marks["end"] - marks["start"], 1),
    }


@pytest.mark.parametrize("fault", ["killed", "hung"])
def test_redis_fault_under_load(start_server, database_url, own_redis, fault):
    server = start_server(database_url)
    users = make_users(server, CLIENTS)
    with Workload(server.port, users) as load:
        assert load.wait_for(is_hit, load.marks["start"], 10) is not None
        load.hold(WARMUP)
        load.mark("fault")
        if fault == "killed":
            own_redis.process.kill()
            own_redis.process.wait(5)
        else:
            own_redis.pause()
        load.hold(FAULT)
        lifted = load.mark("lifted")
        _restart(own_redis) if fault == "killed" else own_redis.resume()
        recovery = load.wait_for(is_hit, lifted, RECOVERY_LIMIT)
        load.hold(AFTER)
    figures = {**_phases(load, "fault", "lifted"), "recovery_s": recovery}
    record_result(f"redis_{fault}", database_url, figures)
    whole = figures["whole"]
    assert whole["5xx"] == 0, whole
    assert whole["connection_errors"] == 0, whole
    assert whole["stale_reads"] == 0, whole["examples"]
    assert figures["during"]["x_cache"].get("BYPASS", 0) > 0
    # past the requests already in flight when the fault began, nothing is served from Redis
    settled = load.summary(load.marks["fault"] + 1.0, lifted)
    assert settled["x_cache"].get("HIT", 0) == 0, settled
    assert recovery is not None, figures["after"]


@pytest.fixture
def postgres_database(request, database_url, tmp_path):
    """The test database when it is PostgreSQL, else a migrated scratch PostgreSQL database."""
    if sa.engine.make_url(database_url).get_backend_name() == "postgresql":
        yield database_url
        return
    request.getfixturevalue("postgres_url")
    from fynix.services.database_migration import DatabaseMigrationService
    from tests.scratch_db import scratch_app, scratch_database

    with scratch_database("postgresql", tmp_path) as url:
        with scratch_app(url):
            DatabaseMigrationService().run_migrations()
        yield url


def _terminate_backends(url: str) -> int:
    """pg_terminate_backend every other session of the database; how many were ended."""
    import psycopg

    parsed = sa.engine.make_url(url)
    with psycopg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        dbname=parsed.database,
        autocommit=True,
    ) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return sum(1 for (ended,) in rows if ended)


@pytest.mark.postgres
def test_postgres_connection_loss_under_load(postgres_database, start_server):
    server = start_server(postgres_database)
    users = make_users(server, CLIENTS)
    terminated = 0
    with Workload(server.port, users, write_ratio=0.3, create_ratio=0.15) as load:
        load.hold(WARMUP)
        until = load.mark("fault") + FAULT
        while time.monotonic() < until:
            terminated += _terminate_backends(postgres_database)
            time.sleep(0.3)
        lifted = load.mark("lifted")
        recovery = load.wait_for(lambda o: o.status in {200, 201}, lifted, RECOVERY_LIMIT)
        load.hold(AFTER)
    figures = {**_phases(load, "fault", "lifted"), "backends_terminated": terminated}
    figures["recovery_s"] = recovery
    record_result("postgres_terminated", postgres_database, figures)
    whole = figures["whole"]
    assert terminated > 0
    assert set(whole["statuses"]) <= {"200", "201", "503"}, whole
    assert whole["503_without_retry_after"] == 0
    assert whole["connection_errors"] == 0, whole  # nothing hung past the client timeout
    assert whole["stale_reads"] == 0, whole["examples"]
    _assert_nothing_acknowledged_lost(postgres_database, users)


def _assert_nothing_acknowledged_lost(url: str, users) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT id, quantity FROM portfolio_positions"))
            stored = {row.id: row.quantity for row in rows}
    finally:
        engine.dispose()
    created = [pid for user in users for pid in user.created]
    assert created, "no position was created under load"
    assert set(created) <= set(stored)
    for user in users:
        assert stored[user.position_id] in user.possible


def test_worker_killed_under_load(start_server, database_url):
    server = start_server(database_url)
    users = make_users(server, CLIENTS)
    with Workload(server.port, users) as load:
        load.hold(WARMUP)
        victim = server.worker_pids()[0]
        load.mark("fault")
        os.kill(victim, signal.SIGKILL)
        replaced = None
        while time.monotonic() < load.marks["fault"] + RECOVERY_LIMIT:
            pids = server.worker_pids()
            if len(pids) == 2 and victim not in pids:
                replaced = load.mark("lifted")
                break
            time.sleep(0.05)
        with contextlib.suppress(KeyError):
            load.hold(AFTER)
    assert replaced is not None, "no replacement worker within the limit"
    figures = {**_phases(load, "fault", "lifted")}
    figures["recovery_s"] = round(replaced - load.marks["fault"], 2)
    record_result("worker_killed", database_url, figures)
    whole = figures["whole"]
    assert whole["5xx"] == 0, whole
    # a sync worker serves one request at a time: at most that one is lost with it
    assert whole["connection_errors"] <= 1, whole
    assert whole["stale_reads"] == 0, whole["examples"]
    assert figures["after"]["statuses"].get("200", 0) > 0

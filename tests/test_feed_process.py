"""The feed as operators run it: ``flask --app wsgi market feed`` in a process of its own,
stopped by SIGTERM, its prices read fresh through Redis; and a running feed waiting out a
Redis outage (paused server) and a PostgreSQL outage (connections refused)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from fynix.caching.manager import get_manager
from fynix.extensions import db
from fynix.market.feed.runner import FeedRunner
from fynix.market.feed.simulated import SimulatedProvider, start_quotes
from fynix.services.database_migration import DatabaseMigrationService
from tests.conftest import wait_for
from tests.feed_helpers import (
    OVERVIEW,
    assert_readers_see,
    cached_holder,
    feed_logs,
    feed_row,
    seed_quotes,
    stored_quotes,
    walk_prices,
)
from tests.gunicorn_server import TEST_ENV
from tests.processes import ROOT, spawn, stop_process
from tests.scratch_db import scratch_app, scratch_database

pytestmark = pytest.mark.slow


def start_feed(app, log: Path, *args: str, redis_url: str = "") -> subprocess.Popen:
    """``flask --app wsgi market feed ARGS`` on ``app``'s database, cache prefix and Redis."""
    env = {
        **os.environ,
        **TEST_ENV,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "REDIS_CLUSTER_NODES": "",
        "REDIS_SENTINELS": "",
        "CACHE_KEY_PREFIX": app.config["CACHE_KEY_PREFIX"],
        "CACHE_LOCAL_DIR": str(log.parent),
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "market", "feed", *args]
    return spawn(command, log, cwd=ROOT, env=env)


def terminate(feed: subprocess.Popen, log: Path) -> int:
    """SIGTERM, then the exit status (a hang fails the test after a generous timeout)."""
    os.kill(feed.pid, signal.SIGTERM)
    try:
        return feed.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the feed did not stop on SIGTERM; log:\n{log.read_text()}")


def batches(app, name: str) -> int:
    row = feed_row(app, name)
    return row.batches_total if row else 0


def test_sigterm_stops_the_feed_with_exit_0_and_every_batch_whole(app, tmp_path):
    # 1500 symbols: three INSERT statements per batch, so SIGTERM is likely to land mid-batch.
    start = {f"S{n:04d}": f"{10 + n % 90}.{n % 100:02d}" for n in range(1500)}
    seed_quotes(app, start)
    log = tmp_path / "feed.log"
    feed = start_feed(app, log, "--interval", "0", "--seed", "13", "--name", "term")
    try:
        assert wait_for(lambda: batches(app, "term") >= 3, 60), log.read_text()
        assert terminate(feed, log) == 0, log.read_text()
    finally:
        stop_process(feed, timeout=10)
    written = batches(app, "term")
    stored = stored_quotes(app)
    # The status row and the prices moved together: exactly `written` whole steps of the walk.
    assert {symbol: price for symbol, (price, _, _) in stored.items()} == walk_prices(
        start, 13, written
    )
    assert len({at for _, _, at in stored.values()}) == 1
    text = log.read_text()
    assert "stopping the feed after the batch in progress" in text
    assert '"message": "feed stopped"' in text


@pytest.mark.redis
def test_prices_from_a_feed_process_reach_cached_readers(redis_app, tmp_path):
    client = redis_app.test_client()
    holder = cached_holder(client)

    def overview_price() -> str:
        return client.get(OVERVIEW).get_json()["items"][0]["price"]

    log = tmp_path / "feed.log"
    feed = start_feed(
        redis_app, log, "--symbols", "AAPL", "--interval", "0.2",
        redis_url=redis_app.config["REDIS_URL"],
    )  # fmt: skip
    try:
        assert wait_for(lambda: overview_price() != "100.00", 60), log.read_text()
        assert terminate(feed, log) == 0, log.read_text()
    finally:
        stop_process(feed, timeout=10)
    assert_readers_see(client, holder, stored_quotes(redis_app)["AAPL"][0])


class Waits:
    """The runner's wait: short real pauses, recorded, and stoppable."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.calls.append(seconds)
        return self.stopped.wait(min(seconds, 0.05))


def run_in_thread(app, runner: FeedRunner) -> threading.Thread:
    """Run the feed in a thread with its own app context (its own session)."""

    def target() -> None:
        with app.app_context():
            runner.run()
            db.session.remove()

    thread = threading.Thread(target=target, name="feed", daemon=True)
    thread.start()
    return thread


@pytest.mark.redis
def test_a_redis_outage_holds_the_next_batch_until_readers_see_fresh_prices(
    app, app_factory, own_redis
):
    reader = app_factory(REDIS_URL=own_redis.url)
    prefix = reader.config["CACHE_KEY_PREFIX"]
    feed_app = app_factory(REDIS_URL=own_redis.url, CACHE_KEY_PREFIX=prefix)
    client = reader.test_client()
    holder = cached_holder(client)
    with feed_app.app_context():
        provider = SimulatedProvider(start_quotes(["AAPL"]), seed=4)
    waits = Waits()
    runner = FeedRunner(
        "outage", provider, 0.05, wait=waits, stopped=waits.stopped,
        backoff=(0.05, 0.2), delivery_step=0.2,
    )  # fmt: skip
    own_redis.pause()
    with feed_logs() as logs:
        thread = run_in_thread(feed_app, runner)
        try:
            assert wait_for(lambda: logs.count("holding the next batch") == 1)
            held = len(waits.calls)
            assert wait_for(lambda: len(waits.calls) >= held + 3)
            assert batches(reader, "outage") == 1  # written, but the next one waits
            own_redis.resume()
            assert wait_for(lambda: batches(reader, "outage") >= 3)
        finally:
            own_redis.resume()
            waits.stopped.set()
            thread.join(timeout=30)
    assert not thread.is_alive()
    assert logs.count("holding the next batch") == 1  # once per outage
    assert logs.count("cache invalidations delivered") == 1
    with feed_app.app_context():
        assert get_manager().deliver_pending(10)  # what the command does at exit
    assert_readers_see(client, holder, stored_quotes(reader)["AAPL"][0])
    assert feed_row(reader, "outage").last_error.startswith("cache backend unreachable")


def _allow_connections(base_url: str, database: str, allowed: bool) -> None:
    """Open or close ``database`` to new connections; closing also ends the current ones."""
    url = make_url(base_url)
    server = {"host": url.host, "port": url.port or 5432, "user": url.username,
              "password": url.password, "dbname": url.database}  # fmt: skip
    with psycopg.connect(**server, autocommit=True) as connection:
        connection.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(database), sql.SQL("true" if allowed else "false")
            )
        )
        if not allowed:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )


@pytest.mark.postgres
def test_a_postgresql_outage_is_waited_out_and_the_batch_written_whole(postgres_url, tmp_path):
    start = {"AAPL": "100.00", "MSFT": "200.00"}
    with scratch_database("postgresql", tmp_path) as url, scratch_app(url) as feed_app:
        DatabaseMigrationService().run_migrations()
        seed_quotes(feed_app, start)
        provider = SimulatedProvider(start_quotes(), seed=6)
        db.session.remove()
        waits = Waits()
        runner = FeedRunner("pg", provider, 0.05, wait=waits, stopped=waits.stopped,
                            backoff=(0.05, 0.2))  # fmt: skip
        database = make_url(url).database
        with feed_logs() as logs:
            thread = run_in_thread(feed_app, runner)
            try:
                assert wait_for(lambda: runner.batches >= 2)
                _allow_connections(postgres_url, database, allowed=False)
                assert wait_for(lambda: logs.count("database unreachable") == 1)
                refused = len(waits.calls)
                assert wait_for(lambda: len(waits.calls) >= refused + 3)
                before = runner.batches
                _allow_connections(postgres_url, database, allowed=True)
                assert wait_for(lambda: runner.batches >= before + 2)
            finally:
                _allow_connections(postgres_url, database, allowed=True)
                waits.stopped.set()
                thread.join(timeout=30)
        assert not thread.is_alive()
        assert logs.count("database unreachable") == 1  # once per outage, not per attempt
        assert logs.count("database reachable again") == 1
        status = feed_row(feed_app, "pg")
        assert status.batches_total == runner.batches
        assert status.last_error.startswith("database unreachable: ")
        stored = stored_quotes(feed_app)
        assert {s: price for s, (price, _, _) in stored.items()} == walk_prices(
            start, 6, runner.batches
        )
        assert len({at for _, _, at in stored.values()}) == 1

"""Without Redis, several processes on one host (gunicorn workers, CLI commands) still never
serve an answer that a write has made stale: generations are shared through the host."""

from __future__ import annotations

import uuid

import pytest

from tests.gunicorn_server import start_gunicorn, summaries_after_writes

pytestmark = pytest.mark.slow


@pytest.fixture
def shared(app, database_url, tmp_path) -> dict[str, str]:
    """Settings every process of the "host" shares (tables emptied by ``app``)."""
    return {
        "CACHE_LOCAL_DIR": str(tmp_path),
        "CACHE_KEY_PREFIX": f"fynixtest-{uuid.uuid4().hex[:10]}",
        "DATABASE_URL": database_url,
    }


@pytest.fixture
def server(shared):
    """gunicorn with two workers and no Redis at all."""
    instance = start_gunicorn({**shared, "REDIS_URL": "", "REDIS_CLUSTER_NODES": ""}, workers=2)
    yield instance
    instance.stop()


def test_two_workers_without_redis_never_serve_a_stale_read(server):
    assert len(server.worker_pids()) == 2
    _, headers = server.register_user("l")
    states, stale = summaries_after_writes(server, headers, writes=20, reads=4)
    assert stale == 0
    assert "HIT" in states  # the in-process cache is on, in both workers


def test_a_cli_write_reaches_the_running_server_without_redis(
    server, shared, app_factory, tmp_path
):
    _, headers = server.register_user("l")
    assert (
        server.json(
            "POST",
            "/api/portfolio/positions",
            {"symbol": "AAPL", "quantity": "10", "average_cost": "10"},
            headers,
        )[0]
        == 201
    )
    for _ in range(6):  # warm both workers
        server.json("GET", "/api/public/market-overview")
        server.json("GET", "/api/portfolio/summary", headers=headers)
    csv = tmp_path / "prices.csv"
    csv.write_text("symbol,price\nAAPL,42\n")
    command = app_factory(
        REDIS_URL=None,
        CACHE_LOCAL_DIR=shared["CACHE_LOCAL_DIR"],
        CACHE_KEY_PREFIX=shared["CACHE_KEY_PREFIX"],
    )
    result = command.test_cli_runner().invoke(args=["market", "load", str(csv)])
    assert result.exit_code == 0, result.output
    for _ in range(6):
        _, _, summary = server.json("GET", "/api/portfolio/summary", headers=headers)
        assert summary["market_value"] == "420.00"
        _, _, overview = server.json("GET", "/api/public/market-overview")
        assert [item["price"] for item in overview["items"]] == ["42.00"]

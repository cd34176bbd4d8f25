"""Writes that do not come through the API keep the freshness promise while Redis fails:
a command delivers its invalidations before it exits, or exits non-zero and says what to
clear. Every command declares whether it writes, so a new one cannot forget."""

from __future__ import annotations

import click
import pytest

from fynix.caching.manager import get_manager
from tests.conftest import AuthActions
from tests.factories import aapl_holder

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def market(app, app_factory, own_redis, tmp_path):
    """An app on a Redis of this test only; a holder of AAPL whose summary is cached."""
    app = app_factory(REDIS_URL=own_redis.url, CACHE_CLI_DELIVERY_TIMEOUT=10.0)  # `app`: cleanup
    auth = AuthActions(app.test_client())
    holder = aapl_holder(auth).headers
    client = auth.client
    csv = tmp_path / "prices.csv"
    csv.write_text("symbol,price\nAAPL,150\n")
    return app, client, holder, csv


def _cached_reads(client, holder) -> None:
    for path, headers in (
        ("/api/portfolio/summary", holder),
        ("/api/market/quotes/AAPL", holder),
        ("/api/public/market-overview", {}),
    ):
        client.get(path, headers=headers)
        assert client.get(path, headers=headers).headers["X-Cache"] == "HIT", path


def _pause_writes(own_redis, milliseconds: int) -> None:
    import redis

    with redis.Redis.from_url(own_redis.url) as control:
        control.execute_command("CLIENT", "PAUSE", milliseconds, "WRITE")


def test_market_load_during_a_failover_pause_delivers_before_it_exits(market, own_redis):
    app, client, holder, csv = market
    _cached_reads(client, holder)
    _pause_writes(own_redis, 1500)  # as Redis does during a failover
    result = app.test_cli_runner().invoke(args=["market", "load", str(csv)])
    assert result.exit_code == 0, result.output
    assert get_manager(app).pending_invalidations == 0
    summary = client.get("/api/portfolio/summary", headers=holder).get_json()
    assert summary["market_value"] == "1500.00"
    quote = client.get("/api/market/quotes/AAPL", headers=holder).get_json()
    assert quote["price"] == "150.00"
    overview = client.get("/api/public/market-overview").get_json()
    assert [item["price"] for item in overview["items"]] == ["150.00"]


def test_market_load_that_cannot_deliver_fails_and_says_what_to_clear(market, own_redis):
    app, client, holder, csv = market
    app.config["CACHE_CLI_DELIVERY_TIMEOUT"] = 0.5
    _cached_reads(client, holder)
    _pause_writes(own_redis, 4000)
    result = app.test_cli_runner().invoke(args=["market", "load", str(csv)])
    assert result.exit_code == 1
    assert "Imported 1 quotes" in result.output  # the data itself was written
    assert "flask --app wsgi cache clear" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["users", "create-admin", "--email", "o@example.com", "--username", "ops", "--password",
         "long-enough-1"],
        ["seed-demo", "--users", "2"],
    ],
    ids=["create-admin", "seed-demo"],
)  # fmt: skip
def test_every_writing_command_fails_loudly_when_it_cannot_deliver(
    app, app_factory, own_redis, args
):
    app = app_factory(REDIS_URL=own_redis.url, CACHE_CLI_DELIVERY_TIMEOUT=0.5)  # `app`: cleanup
    _pause_writes(own_redis, 4000)
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1, result.output
    assert "could not reach the cache backend" in result.output


def _commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    found = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.update(_commands(command, f"{prefix}{name} "))
        else:
            found[f"{prefix}{name}"] = command
    return found


def test_every_fynix_command_declares_whether_it_writes(app):
    """A new command must say `writes_data` (delivers invalidations) or `reads_only`."""
    ours = {
        name: command
        for name, command in _commands(app.cli).items()
        if command.callback.__module__.startswith("fynix")
    }
    assert {"seed-demo", "users create-admin", "market load", "market feed", "cache clear"} <= set(
        ours
    )
    undeclared = [name for name, c in ours.items() if not hasattr(c.callback, "writes_data")]
    assert undeclared == []

"""/metrics in one process: requests per route, bounded labels, token, worker gauges, Redis down."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from fynix.extensions import db
from tests.metrics_samples import LATENCY_COUNT, REQUESTS, parse, request_labels, value


def scrape(client, headers: dict | None = None) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics as {(name, labels): value}."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse(response.get_data(as_text=True))


def test_requests_are_counted_per_route_template_method_and_status(client):
    before = scrape(client)
    for _ in range(3):
        client.get("/healthz")
    for position_id in (1, 2):
        client.get(f"/api/portfolio/positions/{position_id}")  # no token: 401
    client.post("/healthz")  # 405: matches no rule for POST
    after = scrape(client)
    expected = [
        (request_labels("/healthz", "GET", 200), 3),
        (request_labels("/api/portfolio/positions/<int:position_id>", "GET", 401), 2),
        (request_labels("<unmatched>", "POST", 405), 1),
    ]
    for labels, count in expected:
        assert value(after, REQUESTS, **labels) - value(before, REQUESTS, **labels) == count
        assert value(after, LATENCY_COUNT, **labels) - value(before, LATENCY_COUNT, **labels) == (
            count
        )
        infinite = {**labels, "le": "+Inf"}
        bucket = "fynix_http_request_duration_seconds_bucket"
        assert value(after, bucket, **infinite) == value(after, LATENCY_COUNT, **labels)


def test_unknown_paths_and_methods_add_no_label_values(client):
    def probe() -> set[frozenset]:
        for _ in range(20):
            token = uuid.uuid4().hex
            assert client.get(f"/{token}/x").status_code == 404
            assert client.open("/healthz", method=f"M{token[:8].upper()}").status_code == 405
        text = client.get("/metrics").get_data(as_text=True)
        assert token not in text
        assert token[:8].upper() not in text
        return {labels for (name, labels) in parse(text) if name == REQUESTS}

    first = probe()
    assert probe() == first  # 40 new paths and methods, not one new series
    assert frozenset(request_labels("<unmatched>", "GET", 404).items()) in first
    assert frozenset(request_labels("<unmatched>", "other", 405).items()) in first


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong-token"}, 401),
        ({"Authorization": "Bearer caf\u00e9"}, 401),
        ({"Authorization": "Bearer metrics-secret-1"}, 200),
    ],
)
def test_metrics_token_is_required_when_set(app_factory, headers, status):
    client = app_factory(METRICS_TOKEN="metrics-secret-1").test_client()
    response = client.get("/metrics", headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.get_json()["message"] == "A metrics token is required."
    else:
        assert "fynix_http_requests_total" in response.get_data(as_text=True)


def test_database_pool_gauges_show_connections_in_use(app):
    client = app.test_client()
    client.get("/healthz")
    with app.app_context():
        connection = db.engine.connect()
    try:
        held = scrape(client)
    finally:
        connection.close()
    released = scrape(client)
    assert value(held, "fynix_db_pool_checked_out") == 1
    assert value(released, "fynix_db_pool_checked_out") == 0
    assert value(released, "fynix_db_pool_checked_in") >= 1
    assert value(released, "fynix_db_pool_size") == 5  # SQLAlchemy's default pool_size


@pytest.mark.redis
def test_metrics_answer_with_redis_down(app_factory, own_redis):
    from tests.conftest import AuthActions

    app = app_factory(REDIS_URL=own_redis.url)
    auth = AuthActions(app.test_client())
    _, headers = auth.new_user()
    client = auth.client
    assert value(scrape(client), "fynix_cache_up") == 1
    own_redis.stop()
    states = {client.get("/api/users/me", headers=headers).headers["X-Cache"] for _ in range(4)}
    assert states == {"BYPASS"}
    samples = scrape(client)
    assert value(samples, "fynix_cache_up") == 0
    assert value(samples, "fynix_cache_breaker_state", state="open") == 1
    assert value(samples, "fynix_cache_breaker_state", state="closed") == 0
    assert value(samples, REQUESTS, **request_labels("/api/users/me", "GET", 200)) >= 4


def test_metrics_disabled_times_nothing_but_still_exports(app_factory):
    client = app_factory(METRICS_ENABLED=False).test_client()
    labels = request_labels("/healthz", "GET", 200)
    before = scrape(client)
    client.get("/healthz")
    after = scrape(client)
    assert value(after, REQUESTS, **labels) == value(before, REQUESTS, **labels)
    assert value(after, "fynix_cache_up") == 1


def test_dashboard_queries_only_exported_metrics(client):
    client.get("/healthz")
    exported = {name for name, _ in scrape(client)}
    dashboard = Path(__file__).resolve().parent.parent / "docs/grafana/fynix-dashboard.json"
    panels = json.loads(dashboard.read_text())["panels"]
    queried = {
        name
        for panel in panels
        for target in panel.get("targets", [])
        for name in re.findall(r"fynix_[a-z_]+", target["expr"])
    }
    assert queried
    assert queried <= exported

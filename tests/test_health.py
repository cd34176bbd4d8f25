"""Liveness and readiness probes: /healthz and /readyz."""

from __future__ import annotations

from fynix.services.database_migration import DatabaseMigrationService
from tests.scratch_db import scratch_app, scratch_database
from tests.services import free_port

HEAD = "0005_market_feed_status"


def test_healthz_is_200(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_200_at_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["schema"] == {"current": HEAD, "head": HEAD, "at_head": True}
    assert body["checks"]["cache"]["status"] == "ok"


def test_readyz_is_503_while_the_schema_is_behind(tmp_path):
    with scratch_database("sqlite", tmp_path) as url, scratch_app(url) as app:
        client = app.test_client()
        empty = client.get("/readyz")
        assert empty.status_code == 503
        assert empty.get_json()["checks"]["schema"]["current"] is None

        DatabaseMigrationService().apply_migration("0001_schema")
        behind = client.get("/readyz")
        assert behind.status_code == 503
        body = behind.get_json()
        assert body["status"] == "down"
        assert body["checks"]["schema"] == {
            "current": "0001_schema",
            "head": HEAD,
            "at_head": False,
        }

        DatabaseMigrationService().run_migrations()
        assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_the_database_is_down(app_factory):
    app = app_factory(
        SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://fynix@127.0.0.1:{free_port()}/x"
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "down"
    assert body["checks"]["database"].startswith("down")
    assert "schema" not in body["checks"]


def test_readyz_with_redis_down_is_degraded_but_200(app_factory):
    app = app_factory(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"]["status"] != "ok"

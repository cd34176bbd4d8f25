"""The response cache against a real Redis: headers, hits, keys, stats and management."""

from __future__ import annotations

import pytest

from tests.factories import create_position

pytestmark = pytest.mark.redis


def test_miss_then_hit_with_age_etag_and_cache_control(redis_auth):
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    create_position(client, headers)
    first = client.get("/api/portfolio/summary", headers=headers)
    second = client.get("/api/portfolio/summary", headers=headers)
    assert first.headers["X-Cache"] == "MISS"
    assert "Age" not in first.headers
    assert second.headers["X-Cache"] == "HIT"
    assert int(second.headers["Age"]) >= 0
    assert second.get_json() == first.get_json()
    assert second.headers["ETag"] == first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"


def test_matching_if_none_match_is_304_without_body(redis_auth):
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    etag = client.get("/api/users/me", headers=headers).headers["ETag"]
    response = client.get("/api/users/me", headers={**headers, "If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag
    other = client.get("/api/users/me", headers={**headers, "If-None-Match": '"nope"'})
    assert other.status_code == 200


def test_public_overview_is_public_and_shared(redis_auth):
    client = redis_auth.client
    first = client.get("/api/public/market-overview")
    second = client.get("/api/public/market-overview")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, no-cache"
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")


def test_cache_disabled_is_bypass(app_factory, redis_server):
    from tests.conftest import AuthActions

    app = app_factory(REDIS_URL=redis_server, CACHE_ENABLED=False)
    auth = AuthActions(app.test_client())
    _, headers = auth.new_user()
    states = {
        auth.client.get("/api/users/me", headers=headers).headers["X-Cache"] for _ in range(3)
    }
    assert states == {"BYPASS"}


def test_hit_is_one_redis_round_trip_and_no_sql(redis_auth, io_counter):
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    create_position(client, headers)
    assert client.get("/api/portfolio/summary", headers=headers).headers["X-Cache"] == "MISS"
    io_counter.sql = io_counter.redis = 0
    hit = client.get("/api/portfolio/summary", headers=headers)
    assert hit.headers["X-Cache"] == "HIT"
    assert io_counter.redis == 1
    assert io_counter.sql == 0


def test_profile_hit_is_one_redis_round_trip_and_no_sql(redis_auth, io_counter):
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    assert client.get("/api/users/me", headers=headers).headers["X-Cache"] == "MISS"
    io_counter.sql = io_counter.redis = 0
    assert client.get("/api/users/me", headers=headers).headers["X-Cache"] == "HIT"
    assert (io_counter.redis, io_counter.sql) == (1, 0)


def test_junk_query_parameters_share_the_entry(redis_auth):
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    create_position(client, headers)
    assert (
        client.get("/api/portfolio/positions?page=1", headers=headers).headers["X-Cache"] == "MISS"
    )
    for query in ("?page=1&junk=1", "?junk=2&page=1", "?page=01", "?page=1&per_page=20"):
        response = client.get(f"/api/portfolio/positions{query}", headers=headers)
        assert response.headers["X-Cache"] == "HIT", query


def test_invalid_query_is_422_and_not_cached(redis_auth):
    _, headers = redis_auth.new_user()
    for _ in range(2):
        response = redis_auth.client.get("/api/portfolio/positions?page=zero", headers=headers)
        assert response.status_code == 422
        assert response.headers.get("X-Cache") != "HIT"


def test_only_200_responses_are_stored(redis_auth):
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    assert client.get("/api/portfolio/positions/999", headers=headers).status_code == 404
    assert (
        client.get("/api/portfolio/positions/999", headers=headers).headers.get("X-Cache") != "HIT"
    )


def test_entries_are_json_metadata_not_pickle_and_all_keys_expire(redis_auth, redis_client):
    user, headers = redis_auth.new_user()
    client = redis_auth.client
    create_position(client, headers)
    client.get("/api/portfolio/summary", headers=headers)
    prefix = redis_auth.client.application.config["CACHE_KEY_PREFIX"]
    keys = list(redis_client.scan_iter(f"{prefix}:*"))
    assert keys
    for key in keys:
        assert redis_client.ttl(key) > 0, key
    import json

    entries = [k for k in keys if b":e:" in k and b"{u" in k]  # the user's holdings
    meta, _, body = redis_client.get(entries[0]).partition(b"\n")
    meta = json.loads(meta)
    assert meta["owner"].startswith(f"{user['id']}.")
    assert {"cached_at", "ttl", "gen", "etag", "status", "headers"} <= set(meta)
    json.loads(body)


def test_cache_endpoints_are_admin_only(redis_auth):
    _, user_headers = redis_auth.new_user()
    client = redis_auth.client
    calls = [
        ("get", "/cache/stats"),
        ("post", "/cache/clear"),
        ("post", "/cache/warm"),
        ("delete", "/cache/pattern/*"),
        ("get", "/cache/health"),
    ]
    for method, path in calls:
        assert getattr(client, method)(path).status_code == 401, path
        assert getattr(client, method)(path, headers=user_headers).status_code == 403, path


def test_clear_and_pattern_clear_leave_foreign_keys(redis_auth, redis_client):
    _, admin = redis_auth.new_user(admin=True)
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    create_position(client, headers)
    redis_client.set("someone-else:key", b"keep", ex=600)
    redis_client.set("fynix-other-app:portfolio:x", b"keep", ex=600)
    client.get("/api/portfolio/summary", headers=headers)
    client.get("/api/users/me", headers=headers)

    preview = client.delete("/cache/pattern/user:*", headers=admin)
    assert preview.status_code == 200
    assert preview.get_json()["deleted"] == 1
    assert client.get("/api/users/me", headers=headers).headers["X-Cache"] == "MISS"
    assert client.get("/api/portfolio/summary", headers=headers).headers["X-Cache"] == "HIT"

    for escape in ("../*", "*", "{u1}*", "\\*"):
        assert client.delete(f"/cache/pattern/{escape}", headers=admin).status_code == 200
    cleared = client.post("/cache/clear", headers=admin)
    assert cleared.status_code == 200
    assert client.get("/api/portfolio/summary", headers=headers).headers["X-Cache"] == "MISS"
    assert redis_client.get("someone-else:key") == b"keep"
    assert redis_client.get("fynix-other-app:portfolio:x") == b"keep"


def test_clear_reports_deleted_count(redis_auth, redis_client):
    _, admin = redis_auth.new_user(admin=True)
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    client.get("/api/users/me", headers=headers)
    client.get("/api/public/market-overview")
    prefix = client.application.config["CACHE_KEY_PREFIX"]
    held = [
        key
        for key in redis_client.scan_iter(f"{prefix}:*")
        if not key.endswith((b":gen", b":stats"))
    ]
    # The profile entry, the price book the overview is made from, and the two logged-in
    # users' token markers (rewritten once the database confirms a token again).
    assert len(held) == 4
    assert client.post("/cache/clear", headers=admin).get_json()["deleted"] == 4
    assert client.post("/cache/clear", headers=admin).get_json()["deleted"] == 0


def test_bad_pattern_is_422(redis_auth):
    _, admin = redis_auth.new_user(admin=True)
    response = redis_auth.client.delete("/cache/pattern/a%20b", headers=admin)
    assert response.status_code == 422
    assert "pattern" in response.get_json()["errors"]


def test_stats_count_hits_and_misses_per_namespace(redis_auth):
    _, admin = redis_auth.new_user(admin=True)
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    for _ in range(3):
        client.get("/api/users/me", headers=headers)
    stats = client.get("/cache/stats", headers=admin).get_json()
    user = stats["namespaces"]["user"]
    assert (user["hits"], user["misses"]) == (2, 1)
    assert user["hit_ratio"] == pytest.approx(2 / 3, abs=1e-3)
    assert user["target_hit_ratio"] == 0.8
    assert user["keys"] >= 1
    assert stats["namespaces"]["portfolio"]["target_hit_ratio"] == 0.85
    assert stats["redis"]["status"] == "ok"
    assert stats["breaker"]["state"] == "closed"
    assert stats["totals"]["hits"] >= 2


def test_health_reports_backend_and_latency(redis_auth):
    _, admin = redis_auth.new_user(admin=True)
    body = redis_auth.client.get("/cache/health", headers=admin).get_json()
    assert body["status"] == "ok"
    assert body["backend"] == "RedisCache"
    assert body["latency_ms"] >= 0


def test_warm_fills_overview_and_active_users(redis_auth):
    _, admin = redis_auth.new_user(admin=True)
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    create_position(client, headers)
    warmed = client.post("/cache/warm", headers=admin).get_json()["warmed"]
    assert warmed == 5  # overview + summary and unread count of both users
    assert client.get("/api/portfolio/summary", headers=headers).headers["X-Cache"] == "HIT"
    assert client.get("/api/public/market-overview").headers["X-Cache"] == "HIT"
    assert client.post("/cache/warm", headers=admin).get_json()["warmed"] == 0


def test_metrics_expose_shared_counters(redis_auth):
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    client.get("/api/users/me", headers=headers)
    client.get("/api/users/me", headers=headers)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'fynix_cache_hits_total{namespace="user"} 1.0' in text
    assert 'fynix_cache_misses_total{namespace="user"} 1.0' in text


def test_cache_warm_command(redis_app):
    from tests.conftest import AuthActions

    auth = AuthActions(redis_app.test_client())
    auth.new_user()
    result = redis_app.test_cli_runner().invoke(args=["cache-warm", "--users", "5"])
    assert result.exit_code == 0, result.output
    assert "Warmed" in result.output

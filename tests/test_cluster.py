"""The cache on a local 3-primary Redis Cluster and on a Redis Sentinel.

The key behaviours of the single-Redis suite (MISS/HIT, one round trip and no SQL on a
hit, every invalidation rule, clear and pattern clear, stats, warming, stampede) are
re-collected here: this module overrides ``redis_app`` and ``redis_client``, so the very
same test functions run against an app built with ``REDIS_CLUSTER_NODES``. The tests
below them prove what only a cluster can show: one scope's keys share a slot, entries
spread over several primaries, and clear/pattern clear reach every primary.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from tests import test_cache as single
from tests import test_cache_concurrency as concurrency
from tests import test_cache_invalidation as invalidation
from tests.conftest import AuthActions
from tests.factories import create_position
from tests.redis_cluster import LocalCluster, LocalSentinel, start_cluster, start_sentinel

pytestmark = pytest.mark.redis

HASH_TAG = re.compile(rb"\{([^}]*)\}")


@pytest.fixture(scope="session")
def redis_cluster():
    """A 3-primary Redis Cluster on loopback for the whole session, stopped by PID."""
    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def redis_app(app_factory, redis_cluster: LocalCluster):
    """Overrides conftest's redis_app: the same app, cached on the cluster."""
    from tests.conftest import empty_tables

    app = app_factory(REDIS_CLUSTER_NODES=redis_cluster.spec)
    yield app
    empty_tables(app)


@pytest.fixture
def redis_client(redis_cluster: LocalCluster):
    """Overrides conftest's redis_client: a cluster client (SCAN covers every primary)."""
    client = redis_cluster.client()
    yield client
    client.close()


# -- the single-Redis suite, re-collected against the cluster -------------------------------
test_miss_then_hit = single.test_miss_then_hit_with_age_etag_and_cache_control
test_etag_304 = single.test_matching_if_none_match_is_304_without_body
test_public_overview_shared = single.test_public_overview_is_public_and_shared
test_profile_hit_is_one_round_trip = single.test_profile_hit_is_one_redis_round_trip_and_no_sql
test_junk_query_shares_entry = single.test_junk_query_parameters_share_the_entry
test_entries_are_json_and_expire = (
    single.test_entries_are_json_metadata_not_pickle_and_all_keys_expire
)
test_clear_and_pattern_keep_foreign_keys = single.test_clear_and_pattern_clear_leave_foreign_keys
test_clear_reports_deleted_count = single.test_clear_reports_deleted_count
test_stats_per_namespace = single.test_stats_count_hits_and_misses_per_namespace
test_warm = single.test_warm_fills_overview_and_active_users
test_metrics = single.test_metrics_expose_shared_counters

world = invalidation.world
test_position_change = invalidation.test_position_change_refreshes_list_item_and_summary
test_new_and_deleted_positions = invalidation.test_new_and_deleted_positions_refresh_summary
test_quote_update = invalidation.test_quote_update_refreshes_every_reader_and_no_holder_entry
test_notification_to_recipient = invalidation.test_admin_notification_refreshes_recipient_only
test_read_and_delete_notifications = invalidation.test_read_read_all_and_delete_refresh_unread_count
test_ai_threads = invalidation.test_ai_interaction_refreshes_threads
test_position_keeps_ai = invalidation.test_position_change_keeps_ai_history_cached
test_profile_change = invalidation.test_profile_change_refreshes_me
test_slow_reader_race = invalidation.test_slow_reader_cannot_store_stale_result_after_a_write


def test_stampede_computes_once(redis_auth, monkeypatch):
    concurrency.test_fifty_concurrent_cold_requests_compute_once(redis_auth, monkeypatch)


# -- what only a cluster can show ------------------------------------------------------------
def test_summary_hit_is_one_pipelined_round_trip_and_no_sql(redis_auth, io_counter):
    """The holdings live in the user's slot, the price book's generation in the shared one:
    one pipeline writes to both nodes before reading either (one round trip, in parallel)."""
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    create_position(client, headers, "AAPL", "1", "1")
    assert client.get("/api/portfolio/summary", headers=headers).headers["X-Cache"] == "MISS"
    io_counter.sql = io_counter.redis = 0
    assert client.get("/api/portfolio/summary", headers=headers).headers["X-Cache"] == "HIT"
    assert io_counter.redis <= 2  # one write per node concerned, then the reads
    assert io_counter.sql == 0


def _fill(redis_auth, users: int = 12) -> list[dict]:
    """Users with a position, each reading their summary, profile and unread count twice."""
    client = redis_auth.client
    created = []
    for n in range(users):
        _, headers = redis_auth.new_user()
        create_position(client, headers, f"S{n}", "1", "10")
        for path in ("/api/portfolio/summary", "/api/users/me", "/api/notifications/unread-count"):
            client.get(path, headers=headers)
            assert client.get(path, headers=headers).headers["X-Cache"] == "HIT", path
        created.append(headers)
    client.get("/api/public/market-overview")
    return created


def _keys_per_primary(redis_client, match: str) -> dict[str, set[bytes]]:
    """What each primary itself holds (a SCAN on that node, not the client's routing)."""
    held = {}
    for node in redis_client.get_primaries():
        connection = redis_client.get_redis_connection(node)
        held[node.name] = set(connection.scan_iter(match=match, count=500))
    return held


def _prefix(redis_auth) -> str:
    return redis_auth.client.application.config["CACHE_KEY_PREFIX"]


def test_cluster_has_three_primaries(redis_client):
    assert len(redis_client.get_primaries()) >= 3
    assert redis_client.cluster_info()["cluster_state"] == "ok"


def test_one_scope_lands_in_one_slot_and_scopes_spread_over_primaries(redis_auth, redis_client):
    _fill(redis_auth)
    held = _keys_per_primary(redis_client, f"{_prefix(redis_auth)}:*")
    slots_per_scope: dict[bytes, set[int]] = defaultdict(set)
    nodes_per_scope: dict[bytes, set[str]] = defaultdict(set)
    for node, keys in held.items():
        for key in keys:
            tag = HASH_TAG.search(key)
            if tag is None:  # the shared stats hash
                continue
            scope = key[: tag.end()]  # <prefix>:<namespace>:{<scope>}
            slots_per_scope[scope].add(redis_client.cluster_keyslot(key))
            nodes_per_scope[scope].add(node)
    assert len(slots_per_scope) >= 12 * 3
    # generation, entries and locks of one scope: one slot (CLUSTER KEYSLOT), so one node
    assert all(len(slots) == 1 for slots in slots_per_scope.values())
    assert all(len(nodes) == 1 for nodes in nodes_per_scope.values())
    entry_nodes = {node for node, keys in held.items() if any(b":e:" in k for k in keys)}
    assert len(entry_nodes) >= 2, held.keys()


def test_clear_unlinks_on_every_primary_and_keeps_foreign_keys(redis_auth, redis_client):
    _, admin = redis_auth.new_user(admin=True)
    users = _fill(redis_auth)
    prefix = _prefix(redis_auth)
    # one foreign key on each primary, chosen by hash tag so every node holds one
    foreign = []
    for n in range(200):
        key = f"other-app:{{t{n}}}:x"
        if redis_client.get_node_from_key(key).name not in {
            redis_client.get_node_from_key(k).name for k in foreign
        }:
            foreign.append(key)
    for key in foreign:
        redis_client.set(key, b"keep", ex=600)
    # Entries and token markers are cleared; generations and counters are kept.
    entries_before = {
        node: {k for k in keys if b":e:" in k or b":t:" in k}
        for node, keys in _keys_per_primary(redis_client, f"{prefix}:*").items()
    }
    assert sum(1 for keys in entries_before.values() if keys) >= 2

    deleted = redis_auth.client.post("/cache/clear", headers=admin).get_json()["deleted"]

    assert deleted == sum(len(keys) for keys in entries_before.values())
    after = _keys_per_primary(redis_client, f"{prefix}:*")
    assert all(not any(b":e:" in k for k in keys) for keys in after.values())
    assert [redis_client.get(key) for key in foreign] == [b"keep"] * len(foreign)
    assert len(foreign) == len(redis_client.get_primaries())
    for key in foreign:
        redis_client.delete(key)
    summary = redis_auth.client.get("/api/portfolio/summary", headers=users[0])
    assert summary.headers["X-Cache"] == "MISS"


def test_pattern_clear_reaches_every_primary_for_one_namespace_only(redis_auth, redis_client):
    _, admin = redis_auth.new_user(admin=True)
    users = _fill(redis_auth)
    prefix = _prefix(redis_auth)
    before = _keys_per_primary(redis_client, f"{prefix}:user:*:e:*")
    assert sum(1 for keys in before.values() if keys) >= 2

    response = redis_auth.client.delete("/cache/pattern/user:*", headers=admin)

    assert response.get_json()["deleted"] == sum(len(keys) for keys in before.values())
    after = _keys_per_primary(redis_client, f"{prefix}:user:*:e:*")
    assert all(not keys for keys in after.values())
    client = redis_auth.client
    for headers in users:
        assert client.get("/api/users/me", headers=headers).headers["X-Cache"] == "MISS"
        assert client.get("/api/portfolio/summary", headers=headers).headers["X-Cache"] == "HIT"


def test_stats_and_health_sum_over_primaries(redis_auth, redis_client):
    _, admin = redis_auth.new_user(admin=True)
    users = _fill(redis_auth, users=6)
    client = redis_auth.client
    health = client.get("/cache/health", headers=admin).get_json()
    assert (health["status"], health["backend"]) == ("ok", "RedisClusterCache")
    stats = client.get("/cache/stats", headers=admin).get_json()
    user = stats["namespaces"]["user"]
    assert (user["hits"], user["misses"]) == (len(users), len(users))
    prefix = _prefix(redis_auth)
    on_nodes = [
        key for keys in _keys_per_primary(redis_client, f"{prefix}:user:*").values() for key in keys
    ]
    # Entries (and locks) are counted; generation keys are not (the same rule as clearing).
    assert user["keys"] == len([key for key in on_nodes if not key.endswith(b":gen")]) == 6
    used = sum(
        int(redis_client.get_redis_connection(node).info("memory")["used_memory"])
        for node in redis_client.get_primaries()
    )
    assert stats["redis"]["used_memory_bytes"] == pytest.approx(used, rel=0.2)
    assert stats["redis"]["status"] == "ok"


# -- Sentinel ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def redis_sentinel():
    """A primary and a Sentinel monitoring it, both on loopback, stopped by PID."""
    sentinel = start_sentinel()
    yield sentinel
    sentinel.stop()


@pytest.fixture
def sentinel_auth(app_factory, redis_sentinel: LocalSentinel):
    """AuthActions on an app whose cache is found through REDIS_SENTINELS."""
    from tests.conftest import empty_tables

    app = app_factory(
        REDIS_SENTINELS=redis_sentinel.spec, REDIS_SENTINEL_MASTER=redis_sentinel.master
    )
    yield AuthActions(app.test_client())
    empty_tables(app)


def test_sentinel_backend_caches_and_invalidates_on_the_primary(sentinel_auth, redis_sentinel):
    import redis

    _, admin = sentinel_auth.new_user(admin=True)
    _, headers = sentinel_auth.new_user()
    client = sentinel_auth.client
    created = create_position(client, headers, "AAPL", "2", "10")
    states = [client.get("/api/portfolio/summary", headers=headers) for _ in range(2)]
    assert [r.headers["X-Cache"] for r in states] == ["MISS", "HIT"]
    client.patch(
        f"/api/portfolio/positions/{created['id']}",
        json={"quantity": "3"},
        headers=headers,
    )
    fresh = client.get("/api/portfolio/summary", headers=headers)
    assert fresh.headers["X-Cache"] == "MISS"
    assert fresh.get_json()["holdings"][0]["quantity"] == "3.00"
    health = client.get("/cache/health", headers=admin).get_json()
    assert (health["status"], health["backend"]) == ("ok", "RedisSentinelCache")
    prefix = client.application.config["CACHE_KEY_PREFIX"]
    primary = redis.Redis(port=redis_sentinel.primary.port)
    try:
        assert any(b":e:" in key for key in primary.scan_iter(f"{prefix}:*"))
    finally:
        primary.close()


def test_sentinels_setting_must_be_host_port_pairs():
    from fynix.caching.backends import parse_hostports

    assert parse_hostports("10.0.0.1:26379, sentinel-b:26380") == [
        ("10.0.0.1", 26379),
        ("sentinel-b", 26380),
    ]
    with pytest.raises(ValueError, match="host:port"):
        parse_hostports("10.0.0.1")

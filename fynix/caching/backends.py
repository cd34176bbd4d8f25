"""Build the configured backend: one redis-py client with bounded timeouts, or in-process.

Fynix builds the Redis client itself (one place that sets timeouts and retries for every
topology) and hands it to Flask-Caching's ``RedisCache`` through its documented ``host``
parameter ("a string or an object resembling a redis.Redis"), so ``fynix.extensions.cache``
is the configured Flask-Caching backend on the very client Fynix's byte-level store uses.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import redis
from flask import Flask
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

from fynix.caching.hostgens import HostGenerations, host_file
from fynix.caching.keys import epoch_key
from fynix.caching.local import LocalStore
from fynix.caching.store import RedisStore
from fynix.extensions import cache


def redis_options(config: Any) -> dict[str, Any]:
    """Client options for every Redis connection the app owns: short timeouts, no retries."""
    return {
        "socket_timeout": config["REDIS_SOCKET_TIMEOUT"],
        "socket_connect_timeout": config["REDIS_CONNECT_TIMEOUT"],
        "retry": Retry(NoBackoff(), 0),  # fail fast: the breaker decides when to retry
        "health_check_interval": 0,
    }


def parse_hostports(spec: str) -> list[tuple[str, int]]:
    """``"host:port,host:port"`` -> ``[(host, port), ...]``."""
    pairs = []
    for item in spec.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"expected host:port in {spec!r}, got {item.strip()!r}")
        pairs.append((host, int(port)))
    return pairs


def redis_client(config: Any) -> tuple[Any, str] | None:
    """(client, backend label) for the configured topology, or None without Redis.

    Precedence: REDIS_CLUSTER_NODES, then REDIS_SENTINELS, then REDIS_URL.
    """
    options = redis_options(config)
    if config.get("REDIS_CLUSTER_NODES"):
        nodes = [
            redis.cluster.ClusterNode(host, port)
            for host, port in parse_hostports(config["REDIS_CLUSTER_NODES"])
        ]
        return redis.RedisCluster(startup_nodes=nodes, **options), "RedisClusterCache"
    if config.get("REDIS_SENTINELS"):
        sentinel = Sentinel(
            parse_hostports(config["REDIS_SENTINELS"]), sentinel_kwargs=dict(options), **options
        )
        master = sentinel.master_for(
            config["REDIS_SENTINEL_MASTER"], max_connections=config["REDIS_MAX_CONNECTIONS"]
        )
        return master, "RedisSentinelCache"
    if config.get("REDIS_URL"):
        client = redis.Redis.from_url(
            config["REDIS_URL"], max_connections=config["REDIS_MAX_CONNECTIONS"], **options
        )
        return client, "RedisCache"
    return None


def redis_target(config: Any) -> str:
    """Which Redis the configuration names (the same precedence as ``redis_client``)."""
    if config.get("REDIS_CLUSTER_NODES"):
        return f"cluster:{config['REDIS_CLUSTER_NODES']}"
    if config.get("REDIS_SENTINELS"):
        return f"sentinel:{config['REDIS_SENTINELS']}/{config['REDIS_SENTINEL_MASTER']}"
    return f"url:{_server_and_db(config.get('REDIS_URL') or '')}"


def _server_and_db(url: str) -> str:
    """``redis://user:secret@h:6379/0`` and ``redis://h/0?...`` alike as ``redis://h:6379/0``:
    the same server and database, whatever the spelling or the password."""
    parts = urlsplit(url)
    query_db = parse_qs(parts.query).get("db", ["0"])[0]
    if parts.scheme == "unix":
        return f"unix://{parts.path}?db={query_db}"
    db = parts.path.strip("/") or query_db
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}/{db}"


def build_store(app: Flask) -> RedisStore | LocalStore | None:
    """Bind Flask-Caching for this config and return Fynix's store on the same backend."""
    config = app.config
    if not config["CACHE_ENABLED"]:
        cache.init_app(app, config={"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True})
        return None
    built = redis_client(config)
    if built is None:
        cache.init_app(app, config={"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 100_000})
        directory = config.get("CACHE_LOCAL_DIR") or app.instance_path
        uri = config["SQLALCHEMY_DATABASE_URI"]
        tables = [
            HostGenerations(host_file(directory, kind, config["CACHE_KEY_PREFIX"], uri, "bin"))
            for kind in ("generations", "markers")
        ]
        return LocalStore(backend_of(app), *tables, epoch_key(config["CACHE_KEY_PREFIX"]))
    client, label = built
    cache.init_app(app, config={"CACHE_TYPE": "RedisCache", "CACHE_REDIS_HOST": client})
    return RedisStore(client, label)


def backend_of(app: Flask) -> Any:
    """Flask-Caching's backend object bound to ``app`` (its public ``cache.cache``)."""
    with app.app_context():
        return cache.cache

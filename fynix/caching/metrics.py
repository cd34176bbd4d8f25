"""/metrics: Prometheus counters read from the shared stats, so every worker agrees."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from fynix.errors import Unauthorized
from fynix.market.feed.status import FeedCollector

blp = Blueprint("metrics", __name__)


class CacheCollector:
    """Exports the cache counters kept in Redis (aggregated over workers and nodes)."""

    def __init__(self, stats: dict) -> None:
        self.stats = stats

    def collect(self):
        """Yield one family per counter kind, labelled by namespace."""
        families = {
            kind: CounterMetricFamily(f"fynix_cache_{kind}", f"Cache {kind}", labels=["namespace"])
            for kind in ("hits", "misses", "bypasses", "errors")
        }
        ratio = GaugeMetricFamily("fynix_cache_hit_ratio", "Hit ratio", labels=["namespace"])
        keys = GaugeMetricFamily("fynix_cache_keys", "Keys (bounded scan)", labels=["namespace"])
        for name, row in self.stats["namespaces"].items():
            for kind, family in families.items():
                family.add_metric([name], row[kind])
            if row["hit_ratio"] is not None:
                ratio.add_metric([name], row["hit_ratio"])
            if row["keys"] is not None:
                keys.add_metric([name], row["keys"])
        up = GaugeMetricFamily("fynix_cache_up", "1 when the cache backend answers")
        up.add_metric([], 1 if self.stats["redis"]["status"] != "down" else 0)
        yield from (*families.values(), ratio, keys, up)


@blp.get("/metrics")
def metrics():
    """Prometheus text format; needs ``Bearer $METRICS_TOKEN`` when that is configured."""
    from fynix.caching.manage import get_stats

    expected = current_app.config.get("METRICS_TOKEN")
    if expected:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given, expected):
            raise Unauthorized("A metrics token is required.")
    registry = CollectorRegistry()
    registry.register(CacheCollector(get_stats(strict=False)))
    registry.register(FeedCollector())
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")

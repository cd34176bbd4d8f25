"""The cache's Prometheus collector: counters read from the shared stats, so every worker
agrees (served by ``fynix.metrics`` at /metrics)."""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily


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

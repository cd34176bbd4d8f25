"""Reading Prometheus samples: shared by the in-process and the gunicorn metrics tests."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

REQUESTS = "fynix_http_requests_total"
LATENCY_COUNT = "fynix_http_request_duration_seconds_count"


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    """Prometheus text -> {(sample name, frozenset of label pairs): value}."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    """One sample's value (0 when absent), ignoring a pid label if present."""
    wanted = set(labels.items())
    return sum(
        v
        for (sample, pairs), v in samples.items()
        if sample == name and wanted == {pair for pair in pairs if pair[0] != "pid"}
    )


def request_labels(route: str, method: str, status: int) -> dict[str, str]:
    """The labels of one kind of request."""
    return {"route": route, "method": method, "status": str(status)}

"""The HTTP, workload and fault sections of docs/benchmarks.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench import charts
from bench.report_notes import http_note, workload_method, workload_note, write_mix_text
from bench.report_text import VARIANTS, fmt, table, times
from bench.workload_ops import INVALIDATES
from bench.workload_stats import MISS_CAUSES

if TYPE_CHECKING:
    from bench.report import Report


def http_section(self: Report) -> None:
    """HTTP variants: figures, ratios, goals, charts."""
    result = self.result("http")
    self.body += ["## HTTP: five variants under gunicorn (PostgreSQL + Redis)", ""]
    if not result:
        self.body += ["Not run.", ""]
        return
    self.body += [
        f"User {result['user_id']} holds {result['holdings']} positions. "
        f"{result['concurrency']} keep-alive client connections per run (Python load "
        "generator on the same 2 cores); each variant runs on its own gunicorn with the "
        "shipped gunicorn.conf.py (2 sync workers), one at a time.",
        "",
    ]
    rows = []
    for endpoint, by_variant in result["figures"].items():
        for variant, f in by_variant.items():
            rows.append(
                [
                    endpoint,
                    f"({variant}) {VARIANTS[variant]}",
                    f["rps"],
                    f["p50_ms"],
                    f["p99_ms"],
                    f["bytes"],
                    ", ".join(f"{k} {v}" for k, v in f["x_cache"].items()),
                ]
            )
    self.body += table(
        ["endpoint", "variant", "req/s", "p50 ms", "p99 ms", "bytes", "X-Cache"], rows
    )
    ratio_rows = [
        [e, *(times(r[k]) for k in ("b/a", "b/c", "b/d", "b/e", "e/d", "p50 a/b"))]
        for e, r in result["ratios"].items()
    ]
    self.body += ["Ratios of throughput (req/s) unless marked p50:", ""]
    self.body += table(["endpoint", "b/a", "b/c", "b/d", "b/e", "e/d", "p50 a/b"], ratio_rows)
    summary = result["ratios"]["summary"]
    self.goal(
        "summary: (b) >= 10x (a)",
        times(summary["b/a"]),
        summary["b/a"] >= 10,
        http_note("b/a", result),
    )
    for endpoint, r in result["ratios"].items():
        self.goal(
            f"{endpoint}: (b) >= 0.9x (e)",
            times(r["b/e"]),
            r["b/e"] >= 0.9,
            http_note("b/e", result, endpoint),
        )
        self.goal(
            f"{endpoint}: (b) >= 1.1x (c)",
            times(r["b/c"]),
            r["b/c"] >= 1.1,
            http_note("b/c", result, endpoint),
        )
    self.goal("summary: (b)/(d) (reported, no goal)", times(summary["b/d"]), None)
    self.chart(
        "http-throughput.png",
        lambda p: charts.chart_http(result, VARIANTS, "rps", p, "Requests per second"),
    )
    self.chart(
        "http-latency.png",
        lambda p: charts.chart_http(result, VARIANTS, "p99_ms", p, "p99 latency (ms)"),
    )


def workload_section(self: Report) -> None:
    """Workload: method, write mix, hit ratios per namespace and phase, stale reads."""
    result = self.result("workload")
    self.body += ["## Workload: zipf users, 95% reads / 5% writes, warmed cache", ""]
    if not result or "hit_ratio_measured" not in result:
        self.body += ["Not run.", ""]
        return
    self.body += workload_method(result)
    self.body += ["### Write mix", ""]
    phases = (result["write_mix_warmup"], result["write_mix_measured"])
    self.body += table(
        ["write", "invalidates", "warm-up (4xx)", "measured (4xx)"],
        [
            [name, INVALIDATES[name], *(_sent(mix[name]) for mix in phases)]
            for name in result["write_mix_measured"]
        ],
    )
    self.body += [write_mix_text(result), ""]
    for label, key in (
        (f"measured phase ({result['measured_requests']} requests, counted)", "measured"),
        (f"warm-up ({result['warmup_requests']} requests, not counted)", "warmup"),
    ):
        self.body += [f"### Hit ratio, {label}", ""]
        self.body += table(
            ["namespace", "hits", "misses", "first read", "expired", "own write",
             "quote update", "other", "in flight", "bypass", "hit ratio", "ceiling", "target"],
            [
                [ns, t["hits"], t["misses"], *(t[cause] for cause in MISS_CAUSES), t["bypass"],
                 fmt(t["hit_ratio"], 3), fmt(t["ceiling"], 3), fmt(t["target"])]
                for ns, t in result[f"hit_ratio_{key}"].items()
            ],
        )  # fmt: skip
    for ns, t in result["hit_ratio_measured"].items():
        if t["target"] is not None:
            ok = t["hit_ratio"] is not None and t["hit_ratio"] >= t["target"]
            self.goal(
                f"hit ratio {ns} >= {t['target']:.0%} (measured phase, warmed cache)",
                fmt(t["hit_ratio"], 3),
                ok,
                workload_note(t, ns, result),
            )
    self.body += [
        f"Reads checked against an acknowledged write (warm-up and measured phase): "
        f"{result['checked_reads']}; stale: **{result['stale_reads']}**.",
        "",
    ]
    if result["stale_examples"]:
        self.body += ["```", *map(str, result["stale_examples"]), "```", ""]
    self.goal(
        "stale reads == 0 (every read of the run)",
        str(result["stale_reads"]),
        result["stale_reads"] == 0,
        "see the examples under the workload section",
    )
    title = (
        f"Workload hit ratio per namespace (after a {result['warmup_requests']}-request warm-up)"
    )
    self.chart(
        "hit-ratios.png",
        lambda p: charts.chart_hit_ratios(result["hit_ratio_measured"], p, title),
    )


def _sent(counts: dict) -> str:
    return f"{counts.get('sent', 0)} ({counts.get('rejected', 0)})"


def faults_section(self: Report) -> None:
    """Stampede computations and outage latencies."""
    result = self.result("faults")
    self.body += ["## Stampede and outage", ""]
    if not result:
        self.body += ["Not run.", ""]
        return
    stampede = result["stampede"]
    self.body += [
        f"{stampede['burst']} concurrent cold requests for one user's summary, "
        f"gunicorn with {stampede['workers']} sync workers; computations = SQL "
        "statements on portfolio_positions / statements of one computation.",
        "",
    ]
    rows = [
        [
            v,
            s["computations"],
            s["statements"],
            s["statements_per_computation"],
            s["hit_statements"],
            s["p50_ms"],
            s["max_ms"],
            s["x_cache"],
            s.get("workers_ready"),
        ]
        for v, s in ((k, stampede[k]) for k in ("fynix", "peer"))
    ]
    self.body += table(
        [
            "variant",
            "computations",
            "statements",
            "per computation",
            "SQL on a hit",
            "p50 ms",
            "max ms",
            "X-Cache",
            "workers ready",
        ],
        rows,
    )
    fynix = stampede["fynix"]["computations"]
    self.goal("stampede: 1 computation for the burst", fmt(fynix), fynix == 1)
    outage = result["outage"]
    breaker = outage["breaker"]
    self.body += [
        f"Redis hung with SIGSTOP: the breaker was open after {breaker['requests']} "
        f"sequential requests ({breaker['seconds']} s, slowest {breaker['slowest_ms']} ms).",
        "",
    ]
    rows = [
        [k, outage[k]["rps"], outage[k]["p50_ms"], outage[k]["p99_ms"], outage[k]["x_cache"]]
        for k in ("healthy", "hung", "uncached")
    ]
    self.body += table(["case", "req/s", "p50 ms", "p99 ms", "X-Cache"], rows)
    self.body += [
        f"Hung vs uncached: p50 {times(outage['ratios']['p50 hung/uncached'])}, "
        f"p99 {times(outage['ratios']['p99 hung/uncached'])}.",
        "",
    ]
    self.chart("outage.png", lambda p: charts.chart_outage(outage, p))

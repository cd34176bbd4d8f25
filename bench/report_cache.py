"""The cache sections of docs/benchmarks.md: workload hit ratios, stampede and outage.

Each section is a function of the Report it writes into (bench/report_document.py).
"""

from __future__ import annotations

from bench import charts
from bench.report_document import Report
from bench.report_notes import workload_method, workload_note, write_mix_text
from bench.report_text import fmt, table, times
from bench.workload_ops import INVALIDATES
from bench.workload_stats import MISS_CAUSES

HIT_RATIO_COLUMNS = ["namespace", "hits", "misses", "first read", "expired", "own write",
                     "quote update", "other", "in flight", "bypass", "hit ratio", "ceiling",
                     "target"]  # fmt: skip
STAMPEDE_COLUMNS = ["variant", "computations", "statements", "per computation", "SQL on a hit",
                    "p50 ms", "max ms", "X-Cache", "workers ready"]  # fmt: skip


def workload_section(report: Report) -> None:
    """Workload: method, write mix, hit ratios per namespace and phase, stale reads."""
    result = report.result("workload")
    report.body += ["## Workload: zipf users, 95% reads / 5% writes, warmed cache", ""]
    if not result or "hit_ratio_measured" not in result:
        report.body += ["Not run.", ""]
        return
    report.body += workload_method(result)
    report.body += _write_mix(result)
    for label, key in (
        (f"measured phase ({result['measured_requests']} requests, counted)", "measured"),
        (f"warm-up ({result['warmup_requests']} requests, not counted)", "warmup"),
    ):
        report.body += [f"### Hit ratio, {label}", ""]
        report.body += table(HIT_RATIO_COLUMNS, _hit_ratio_rows(result[f"hit_ratio_{key}"]))
    for ns, t in result["hit_ratio_measured"].items():
        if t["target"] is not None:
            ok = t["hit_ratio"] is not None and t["hit_ratio"] >= t["target"]
            report.goal(
                f"hit ratio {ns} >= {t['target']:.0%} (measured phase, warmed cache)",
                fmt(t["hit_ratio"], 3),
                ok,
                workload_note(t, ns, result),
            )
    _stale_reads(report, result)
    title = (
        f"Workload hit ratio per namespace (after a {result['warmup_requests']}-request warm-up)"
    )
    report.chart(
        "hit-ratios.png",
        lambda p: charts.chart_hit_ratios(result["hit_ratio_measured"], p, title),
    )


def _write_mix(result: dict) -> list[str]:
    """Writes sent (and rejected) per kind in both phases, and what each invalidates."""
    phases = (result["write_mix_warmup"], result["write_mix_measured"])
    return [
        "### Write mix",
        "",
        *table(
            ["write", "invalidates", "warm-up (4xx)", "measured (4xx)"],
            [
                [name, INVALIDATES[name], *(_sent(mix[name]) for mix in phases)]
                for name in result["write_mix_measured"]
            ],
        ),
        write_mix_text(result),
        "",
    ]


def _sent(counts: dict) -> str:
    return f"{counts.get('sent', 0)} ({counts.get('rejected', 0)})"


def _hit_ratio_rows(by_namespace: dict[str, dict]) -> list[list]:
    return [
        [ns, t["hits"], t["misses"], *(t[cause] for cause in MISS_CAUSES), t["bypass"],
         fmt(t["hit_ratio"], 3), fmt(t["ceiling"], 3), fmt(t["target"])]
        for ns, t in by_namespace.items()
    ]  # fmt: skip


def _stale_reads(report: Report, result: dict) -> None:
    """How many reads were checked, how many were stale (with examples), and the goal."""
    report.body += [
        f"Reads checked against an acknowledged write (warm-up and measured phase): "
        f"{result['checked_reads']}; stale: **{result['stale_reads']}**.",
        "",
    ]
    if result["stale_examples"]:
        report.body += ["```", *map(str, result["stale_examples"]), "```", ""]
    report.goal(
        "stale reads == 0 (every read of the run)",
        str(result["stale_reads"]),
        result["stale_reads"] == 0,
        "see the examples under the workload section",
    )


def faults_section(report: Report) -> None:
    """Stampede computations and outage latencies."""
    result = report.result("faults")
    report.body += ["## Stampede and outage", ""]
    if not result:
        report.body += ["Not run.", ""]
        return
    _stampede(report, result["stampede"])
    _outage(report, result["outage"])


def _stampede(report: Report, stampede: dict) -> None:
    """Computations per cold burst, Fynix's lock vs the peer, and the one-computation goal."""
    report.body += [
        f"{stampede['burst']} concurrent cold requests for one user's summary, "
        f"gunicorn with {stampede['workers']} sync workers; computations = SQL "
        "statements on portfolio_positions / statements of one computation.",
        "",
    ]
    rows = [
        [v, s["computations"], s["statements"], s["statements_per_computation"],
         s["hit_statements"], s["p50_ms"], s["max_ms"], s["x_cache"], s.get("workers_ready")]
        for v, s in ((k, stampede[k]) for k in ("fynix", "peer"))
    ]  # fmt: skip
    report.body += table(STAMPEDE_COLUMNS, rows)
    fynix = stampede["fynix"]["computations"]
    report.goal("stampede: 1 computation for the burst", fmt(fynix), fynix == 1)


def _outage(report: Report, outage: dict) -> None:
    """How fast the breaker opened, latencies healthy / hung / uncached, and the chart."""
    breaker = outage["breaker"]
    report.body += [
        f"Redis hung with SIGSTOP: the breaker was open after {breaker['requests']} "
        f"sequential requests ({breaker['seconds']} s, slowest {breaker['slowest_ms']} ms).",
        "",
    ]
    rows = [
        [k, outage[k]["rps"], outage[k]["p50_ms"], outage[k]["p99_ms"], outage[k]["x_cache"]]
        for k in ("healthy", "hung", "uncached")
    ]
    report.body += table(["case", "req/s", "p50 ms", "p99 ms", "X-Cache"], rows)
    report.body += [
        f"Hung vs uncached: p50 {times(outage['ratios']['p50 hung/uncached'])}, "
        f"p99 {times(outage['ratios']['p99 hung/uncached'])}.",
        "",
    ]
    report.chart("outage.png", lambda p: charts.chart_outage(outage, p))

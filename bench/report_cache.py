"""The cache sections of docs/benchmarks.md: the session workload, stampede and outage.

Each section is a function of the Report it writes into (bench/report_document.py).
"""

from __future__ import annotations

from bench import charts
from bench.report_document import Report
from bench.report_notes import sql_note, workload_method, workload_note
from bench.report_text import fmt, table, times
from bench.workload_ops import INVALIDATES
from bench.workload_stats import MISS_CAUSES

HIT_RATIO_COLUMNS = ["namespace", "hits", "misses", "first read", "expired", "own write",
                     "quote batch", "other", "in flight", "bypass", "hit ratio", "ceiling",
                     "target"]  # fmt: skip
REQUEST_COLUMNS = ["requests of", "count", "p50 ms", "p99 ms", "uncached p50 ms",
                   "uncached p99 ms", "SQL / request", "uncached SQL / request",
                   "fewer"]  # fmt: skip
STAMPEDE_COLUMNS = ["variant", "computations", "statements", "per computation", "SQL on a hit",
                    "p50 ms", "max ms", "X-Cache", "workers ready"]  # fmt: skip


def workload_section(report: Report) -> None:
    """Sessions with the feed: hit ratios, SQL and latency cached vs not, stale reads."""
    result = report.result("workload")
    report.body += ["## Workload: sessions of returning users while the quote feed ticks", ""]
    if not result or "runs" not in result:
        report.body += ["Not run.", ""]
        return
    cached = result["runs"]["cached"]
    report.body += workload_method(result)
    report.body += ["### Hit ratio with the cache (measured phase)", ""]
    report.body += table(HIT_RATIO_COLUMNS, _hit_ratio_rows(cached["hit_ratio"]))
    for ns, t in cached["hit_ratio"].items():
        if t["target"] is not None:
            ok = t["hit_ratio"] is not None and t["hit_ratio"] >= t["target"]
            report.goal(
                f"hit ratio {ns} >= {t['target']:.0%} (sessions, feed running)",
                f"{fmt(t['hit_ratio'], 3)} (ceiling {fmt(t['ceiling'], 3)})",
                ok,
                workload_note(t, ns, result),
            )
    _requests(report, result)
    report.body += _write_mix(cached)
    _stale_reads(report, cached)
    report.chart(
        "hit-ratios.png",
        lambda p: charts.chart_hit_ratios(
            cached["hit_ratio"], p, "Hit ratio per namespace (sessions, feed running)"
        ),
    )


def _requests(report: Report, result: dict) -> None:
    """Latency and SQL statements per request, cached and uncached, and the SQL goal."""
    cached, uncached = (result["runs"][k]["requests"] for k in ("cached", "uncached"))
    rows = []
    for name in cached:
        c, u = cached[name], uncached.get(name, {})
        rows.append([name, c["requests"], c["p50_ms"], c["p99_ms"], u.get("p50_ms"),
                     u.get("p99_ms"), fmt(c["sql_per_request"]), fmt(u.get("sql_per_request")),
                     _less(c["sql_per_request"], u.get("sql_per_request"))])  # fmt: skip
    report.body += ["### Latency and SQL statements per request (measured phase)", ""]
    report.body += table(REQUEST_COLUMNS, rows)
    report.body += [
        "SQL statements are counted by the server per request and do not depend on how busy "
        "the box is; latencies do (see Machine), and the two runs follow each other, not "
        "interleaved. With the cache, each quote batch (one every "
        f"{result['feed_interval']:g} s of wall time here) also makes every worker decode "
        "the whole price book once and the feed load it and publish it with its new "
        "generation; without the cache the feed only writes its rows.",
        "",
    ]
    less = _reduction(cached["all"]["sql_per_request"], uncached["all"]["sql_per_request"])
    report.goal(
        "SQL statements per request >= 90% fewer than uncached (every request)",
        f"{less:.1%} fewer" if less is not None else "-",
        less is not None and less >= 0.9,
        sql_note(cached, uncached),
    )


def _reduction(cached: float | None, uncached: float | None) -> float | None:
    if cached is None or not uncached:
        return None
    return 1 - cached / uncached


def _less(cached: float | None, uncached: float | None) -> str:
    less = _reduction(cached, uncached)
    return "-" if less is None else f"{less:.0%}"


def _write_mix(run: dict) -> list[str]:
    """Writes sent (and rejected) per kind in the measured phase, and what each invalidates."""
    mix = run["write_mix"]
    return [
        "### Writes in the measured phase (cached run)",
        "",
        *table(
            ["write", "invalidates", "sent (4xx)"],
            [[name, INVALIDATES[name], _sent(counts)] for name, counts in mix.items()],
        ),
        "A rejected write (4xx, e.g. 409 for a symbol the user already holds) changes "
        "nothing and drops nothing. Quote batches are the feed's, as the watcher saw them "
        "acknowledged.",
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


def _stale_reads(report: Report, run: dict) -> None:
    """How many reads were checked, how many were stale (with examples), and the goal."""
    report.body += [
        f"Reads checked against an acknowledged write (warm-up and measured phase, cached "
        f"run): {run['checked_reads']}; stale: **{run['stale_reads']}**; not checked because "
        f"a quote batch's prices could not be told apart from the next one's: "
        f"{run['unchecked_reads']}. Quote batches seen acknowledged: {run['feed_batches']}"
        + (f" (watcher error: {run['watcher_error']})" if run["watcher_error"] else "")
        + ".",
        "",
    ]
    if run["stale_examples"]:
        report.body += ["```", *map(str, run["stale_examples"]), "```", ""]
    report.goal(
        "stale reads == 0 (every read of the cached run)",
        str(run["stale_reads"]),
        run["stale_reads"] == 0 and not run["watcher_error"],
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

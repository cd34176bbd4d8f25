"""The speed sections of docs/benchmarks.md: index speedups and HTTP throughput.

Each section is a function of the Report it writes into (bench/report_document.py).
"""

from __future__ import annotations

from bench import charts
from bench.report_document import Report
from bench.report_notes import QUERY_NOTES, http_note
from bench.report_text import VARIANTS, table, times

QUERY_COLUMNS = [
    "query",
    "index",
    "index used",
    "heavy ms (idx)",
    "heavy ms (no idx)",
    "heavy speedup",
    "median ms (idx)",
    "median ms (no idx)",
    "median speedup",
]


def queries_section(report: Report) -> None:
    """Index speedups per database: tables, goals per cohort, chart, plans."""
    found = {db: report.result(f"queries-{db}") for db in ("sqlite", "postgresql")}
    found = {db: r for db, r in found.items() if r}
    report.body += ["## Index speedups (0002 vs 0001, same data, same run)", ""]
    if not found:
        report.body += ["Not run.", ""]
        return
    report.body += [
        "Median of repeated runs per sampled user (3 heaviest, 3 at the median of "
        "notification counts; symbols likewise), then the median over the sample. "
        "`index used` says whether the indexed plan names the index meant for the query.",
        "",
    ]
    for db, result in found.items():
        for row in result["rows"]:
            for cohort in ("heavy", "median"):
                _query_goal(report, db, row, cohort)
        report.body += [f"### {db} ({result['seconds']} s)", ""]
        report.body += table(QUERY_COLUMNS, [_query_row(row) for row in result["rows"]])
    report.chart("query-speedups.png", lambda p: charts.chart_query_speedups(found, p))
    report.body += _query_plans(found)


def _query_row(row: dict) -> list:
    return [
        row["query"],
        f"`{row['index']}`",
        "yes" if row["uses_index"] else "**no**",
        row["heavy_indexed_ms"],
        row["heavy_unindexed_ms"],
        times(row["heavy_speedup"]),
        row["median_indexed_ms"],
        row["median_unindexed_ms"],
        times(row["median_speedup"]),
    ]


def _query_goal(report: Report, db: str, row: dict, cohort: str) -> None:
    """The >= 20x goal of one query for one cohort, with why it falls short."""
    speedup = row[f"{cohort}_speedup"]
    ok = speedup is not None and speedup >= 20
    note = QUERY_NOTES.get((db, row["query"], cohort)) or QUERY_NOTES.get(
        (None, row["query"], cohort), ""
    )
    if not row["uses_index"]:
        note = f"the plan does not use `{row['index']}`. " + note
    note = note or (
        f"{row[cohort + '_indexed_ms']:.3f} ms with the index vs "
        f"{row[cohort + '_unindexed_ms']:.3f} ms scanning: the scan is cheap at "
        "this table size."
    )
    if report.quick:
        note = "quick run at a tiny scale; the goal is for scale 1.0. " + note
    report.goal(f"{db}: {row['query']} ({cohort} users) >= 20x", times(speedup), ok, note)


def _query_plans(found: dict[str, dict]) -> list[str]:
    """Both plans of every query on the heaviest sampled user, folded."""
    lines = ["<details><summary>Query plans (heaviest sampled user)</summary>", ""]
    for db, result in found.items():
        for row in result["rows"]:
            lines += [
                f"**{db} / {row['query']}**, with indexes:",
                "```",
                row["plan_indexed"],
                "```",
                "without:",
                "```",
                row["plan_unindexed"],
                "```",
                "",
            ]
    return [*lines, "</details>", ""]


def http_section(report: Report) -> None:
    """HTTP variants: figures, ratios, goals, charts."""
    result = report.result("http")
    report.body += ["## HTTP: five variants under gunicorn (PostgreSQL + Redis)", ""]
    if not result:
        report.body += ["Not run.", ""]
        return
    report.body += [
        f"User {result['user_id']} holds {result['holdings']} positions. "
        f"{result['concurrency']} keep-alive client connections per run (Python load "
        "generator on the same 2 cores); each variant runs on its own gunicorn with the "
        "shipped gunicorn.conf.py (2 sync workers), one at a time.",
        "",
    ]
    report.body += table(
        ["endpoint", "variant", "req/s", "p50 ms", "p99 ms", "bytes", "X-Cache"], _http_rows(result)
    )
    ratio_rows = [
        [e, *(times(r[k]) for k in ("b/a", "b/c", "b/d", "b/e", "e/d", "p50 a/b"))]
        for e, r in result["ratios"].items()
    ]
    report.body += ["Ratios of throughput (req/s) unless marked p50:", ""]
    report.body += table(["endpoint", "b/a", "b/c", "b/d", "b/e", "e/d", "p50 a/b"], ratio_rows)
    _http_goals(report, result)
    report.chart(
        "http-throughput.png",
        lambda p: charts.chart_http(result, VARIANTS, "rps", p, "Requests per second"),
    )
    report.chart(
        "http-latency.png",
        lambda p: charts.chart_http(result, VARIANTS, "p99_ms", p, "p99 latency (ms)"),
    )


def _http_rows(result: dict) -> list[list]:
    """One row per endpoint and variant."""
    return [
        [
            endpoint,
            f"({variant}) {VARIANTS[variant]}",
            f["rps"],
            f["p50_ms"],
            f["p99_ms"],
            f["bytes"],
            ", ".join(f"{k} {v}" for k, v in f["x_cache"].items()),
        ]
        for endpoint, by_variant in result["figures"].items()
        for variant, f in by_variant.items()
    ]


def _http_goals(report: Report, result: dict) -> None:
    """(b) against (a) on the summary, against (e) and (c) on every endpoint."""
    summary = result["ratios"]["summary"]
    report.goal(
        "summary: (b) >= 10x (a)",
        times(summary["b/a"]),
        summary["b/a"] >= 10,
        http_note("b/a", result),
    )
    for endpoint, r in result["ratios"].items():
        report.goal(
            f"{endpoint}: (b) >= 0.9x (e)",
            times(r["b/e"]),
            r["b/e"] >= 0.9,
            http_note("b/e", result, endpoint),
        )
        report.goal(
            f"{endpoint}: (b) >= 1.1x (c)",
            times(r["b/c"]),
            r["b/c"] >= 1.1,
            http_note("b/c", result, endpoint),
        )
    report.goal("summary: (b)/(d) (reported, no goal)", times(summary["b/d"]), None)

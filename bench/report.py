"""docs/benchmarks.md and docs/bench/*.png from the results in bench/results/."""

from __future__ import annotations

from pathlib import Path

from bench import charts
from bench.common import CHARTS_DIR, DOCS_DIR, RESULTS_DIR, load_result
from bench.machine import machine_info
from bench.report_notes import QUERY_NOTES, http_note, workload_note

VARIANTS = {
    "a": "uncached",
    "b": "Fynix cached",
    "c": "peer @cache.cached",
    "d": "ceiling (bytes)",
    "e": "floor (1 MGET)",
}


def _fmt(value: object, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}x" if value < 1000 else f"{value:,.0f}x"


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _met(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "**not met**")


class Report:
    """Builds the markdown, collecting the goals table as it goes."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.prefix = "quick/" if quick else ""
        self.charts_dir = RESULTS_DIR / "quick" / "bench" if quick else CHARTS_DIR
        self.goals: list[list] = []
        self.body: list[str] = []

    def result(self, name: str) -> dict | None:
        return load_result(self.prefix + name)

    def chart(self, filename: str, draw) -> None:
        name = draw(self.charts_dir / filename)
        self.body += [f"![{filename}](bench/{name})", ""]

    def goal(self, what: str, measured: str, ok: bool | None, note: str = "") -> None:
        if self.quick and ok is False and not note.startswith("quick"):
            note = "quick run at a tiny scale; the goal is for scale 1.0. " + note
        self.goals.append([what, measured, _met(ok), note if ok is False else ""])

    def queries(self) -> None:
        found = {db: self.result(f"queries-{db}") for db in ("sqlite", "postgresql")}
        found = {db: r for db, r in found.items() if r}
        self.body += ["## Index speedups (0002 vs 0001, same data, same run)", ""]
        if not found:
            self.body += ["Not run.", ""]
            return
        self.body += [
            "Median of repeated runs per sampled user (3 heaviest, 3 at the median of "
            "notification counts; symbols likewise), then the median over the sample. "
            "`index used` says whether the indexed plan names the index meant for the query.",
            "",
        ]
        for db, result in found.items():
            rows = []
            for row in result["rows"]:
                rows.append(
                    [
                        row["query"],
                        f"`{row['index']}`",
                        "yes" if row["uses_index"] else "**no**",
                        row["heavy_indexed_ms"],
                        row["heavy_unindexed_ms"],
                        _x(row["heavy_speedup"]),
                        row["median_indexed_ms"],
                        row["median_unindexed_ms"],
                        _x(row["median_speedup"]),
                    ]
                )
                for cohort in ("heavy", "median"):
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
                    if self.quick:
                        note = "quick run at a tiny scale; the goal is for scale 1.0. " + note
                    self.goal(
                        f"{db}: {row['query']} ({cohort} users) >= 20x", _x(speedup), ok, note
                    )
            self.body += [f"### {db} ({result['seconds']} s)", ""]
            self.body += _table(
                [
                    "query",
                    "index",
                    "index used",
                    "heavy ms (idx)",
                    "heavy ms (no idx)",
                    "heavy speedup",
                    "median ms (idx)",
                    "median ms (no idx)",
                    "median speedup",
                ],
                rows,
            )
        self.chart("query-speedups.png", lambda p: charts.chart_query_speedups(found, p))
        self.body += ["<details><summary>Query plans (heaviest sampled user)</summary>", ""]
        for db, result in found.items():
            for row in result["rows"]:
                self.body += [
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
        self.body += ["</details>", ""]

    def http(self) -> None:
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
        self.body += _table(
            ["endpoint", "variant", "req/s", "p50 ms", "p99 ms", "bytes", "X-Cache"], rows
        )
        ratio_rows = [
            [e, *(_x(r[k]) for k in ("b/a", "b/c", "b/d", "b/e", "e/d", "p50 a/b"))]
            for e, r in result["ratios"].items()
        ]
        self.body += ["Ratios of throughput (req/s) unless marked p50:", ""]
        self.body += _table(["endpoint", "b/a", "b/c", "b/d", "b/e", "e/d", "p50 a/b"], ratio_rows)
        summary = result["ratios"]["summary"]
        self.goal(
            "summary: (b) >= 10x (a)",
            _x(summary["b/a"]),
            summary["b/a"] >= 10,
            http_note("b/a", result),
        )
        for endpoint, r in result["ratios"].items():
            self.goal(
                f"{endpoint}: (b) >= 0.9x (e)",
                _x(r["b/e"]),
                r["b/e"] >= 0.9,
                http_note("b/e", result),
            )
            self.goal(
                f"{endpoint}: (b) >= 1.1x (c)",
                _x(r["b/c"]),
                r["b/c"] >= 1.1,
                http_note("b/c", result),
            )
        self.goal("summary: (b)/(d) (reported, no goal)", _x(summary["b/d"]), None)
        self.chart(
            "http-throughput.png",
            lambda p: charts.chart_http(result, VARIANTS, "rps", p, "Requests per second"),
        )
        self.chart(
            "http-latency.png",
            lambda p: charts.chart_http(result, VARIANTS, "p99_ms", p, "p99 latency (ms)"),
        )

    def workload(self) -> None:
        result = self.result("workload")
        self.body += ["## Workload: zipf users, 95% reads / 5% writes", ""]
        if not result:
            self.body += ["Not run.", ""]
            return
        users = result["distinct_users"]
        self.body += [
            f"{result['requests']} requests ({result['writes']} writes) by {users} distinct "
            f"users from 4 connections, cache cold at the start: {result['seconds']} s, "
            f"{result['rps']} req/s. Statuses: {result['statuses']}. `cold ceiling` is the best "
            "hit ratio possible when every distinct entry's first read is a miss.",
            "",
        ]
        for label, key in (
            ("whole run", "hit_ratio_all"),
            ("second half (steady state)", "hit_ratio_steady"),
        ):
            rows = [
                [
                    ns,
                    t["hits"],
                    t["misses"],
                    t["bypass"],
                    _fmt(t["hit_ratio"], 3),
                    _fmt(t["cold_ceiling"], 3),
                    _fmt(t["target"]),
                ]
                for ns, t in result[key].items()
            ]
            self.body += [f"### Hit ratio, {label}", ""]
            self.body += _table(
                ["namespace", "hits", "misses", "bypass", "hit ratio", "cold ceiling", "target"],
                rows,
            )
        for ns, t in result["hit_ratio_steady"].items():
            if t["target"] is not None:
                ok = t["hit_ratio"] is not None and t["hit_ratio"] >= t["target"]
                self.goal(
                    f"hit ratio {ns} >= {t['target']:.0%} (steady state)",
                    _fmt(t["hit_ratio"], 3),
                    ok,
                    workload_note(t),
                )
        self.body += [
            f"Reads checked against an acknowledged write: {result['checked_reads']}; "
            f"stale: **{result['stale_reads']}**.",
            "",
        ]
        if result["stale_examples"]:
            self.body += ["```", *map(str, result["stale_examples"]), "```", ""]
        self.goal(
            "stale reads == 0",
            str(result["stale_reads"]),
            result["stale_reads"] == 0,
            "see the examples under the workload section",
        )
        self.chart(
            "hit-ratios.png", lambda p: charts.chart_hit_ratios(result["hit_ratio_steady"], p)
        )

    def faults(self) -> None:
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
        self.body += _table(
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
        self.goal("stampede: 1 computation for the burst", _fmt(fynix), fynix == 1)
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
        self.body += _table(["case", "req/s", "p50 ms", "p99 ms", "X-Cache"], rows)
        self.body += [
            f"Hung vs uncached: p50 {_x(outage['ratios']['p50 hung/uncached'])}, "
            f"p99 {_x(outage['ratios']['p99 hung/uncached'])}.",
            "",
        ]
        self.chart("outage.png", lambda p: charts.chart_outage(outage, p))

    def render(self) -> str:
        run = self.result("run") or {"steps": {}}
        machine = run.get("machine_before") or machine_info(self.quick)
        after = run.get("machine_after") or {}
        head = [
            "# Fynix benchmarks",
            "",
            f"Generated by `python -m bench all{' --quick' if self.quick else ''}` on "
            f"{machine['time']} (commit {machine['commit']}). Timings are from one run on the "
            "machine below; they are never asserted in tests.",
            "",
            "## Machine",
            "",
        ]
        head += _table(
            ["what", "value"],
            [
                ["CPUs (nproc)", machine["nproc"]],
                ["memory", f"{machine['memory_gib']} GiB"],
                [
                    "load average before / after",
                    f"{machine['load_average']} / {after.get('load_average', '-')}",
                ],
                ["Python", machine["python"]],
                ["platform", machine["platform"]],
                ["SQLite", machine["sqlite"]],
                ["PostgreSQL", machine["postgresql"]],
                ["Redis", machine["redis_server"]],
                *[[name, version] for name, version in machine["packages"].items()],
            ],
        )
        head += ["## Scale and seeding", ""]
        seeds = [self.result(f"seed-{db}") for db in ("sqlite", "postgresql")]
        rows = [
            [s["dialect"], s["scale"], *s["rows"].values(), s["load_seconds"], s["index_seconds"]]
            for s in seeds
            if s
        ]
        if rows:
            head += _table(
                ["database", "scale", *seeds[0]["rows"].keys(), "load s", "indexes s"]
                if seeds[0]
                else ["database"],
                rows,
            )
        steps = [[name, s["seconds"], s["error"] or "ok"] for name, s in run["steps"].items()]
        tail = ["## Steps", "", *_table(["step", "seconds", "outcome"], steps)]
        goals = [
            "## Goals",
            "",
            *_table(["goal", "measured", "status", "why not (yet)"], self.goals),
        ]
        return "\n".join(head + goals + self.body + tail)


def write_report(quick: bool) -> Path:
    """Render the results into markdown and charts; returns the markdown's path."""
    report = Report(quick)
    report.queries()
    report.http()
    report.workload()
    report.faults()
    text = report.render()
    path = (RESULTS_DIR / "quick" / "benchmarks.md") if quick else (DOCS_DIR / "benchmarks.md")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    return path

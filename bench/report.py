"""docs/benchmarks.md and docs/bench/*.png from the results in bench/results/."""

from __future__ import annotations

from pathlib import Path

from bench import charts
from bench.common import CHARTS_DIR, DOCS_DIR, RESULTS_DIR, load_result
from bench.machine import machine_info
from bench.report_notes import QUERY_NOTES
from bench.report_sections import faults_section, http_section, workload_section
from bench.report_text import status, table, times


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
        self.goals.append([what, measured, status(ok), note if ok is False else ""])

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
                        times(row["heavy_speedup"]),
                        row["median_indexed_ms"],
                        row["median_unindexed_ms"],
                        times(row["median_speedup"]),
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
                        f"{db}: {row['query']} ({cohort} users) >= 20x", times(speedup), ok, note
                    )
            self.body += [f"### {db} ({result['seconds']} s)", ""]
            self.body += table(
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
        load = machine["load_average"][0]
        if load > machine["nproc"]:
            head += [
                f"> **Caution:** the machine was busy with other work during this run (1-minute "
                f"load average {load} on {machine['nproc']} CPUs before, "
                f"{after.get('load_average', ['-'])[0]} after): absolute req/s and latencies "
                "are several times worse than on an idle box and ratios between variants are "
                "compressed. Re-run `python -m bench all` on an idle machine for the real figures.",
                "",
            ]
        head += table(
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
            head += table(
                ["database", "scale", *seeds[0]["rows"].keys(), "load s", "indexes s"]
                if seeds[0]
                else ["database"],
                rows,
            )
        steps = [[name, s["seconds"], s["error"] or "ok"] for name, s in run["steps"].items()]
        tail = ["## Steps", "", *table(["step", "seconds", "outcome"], steps)]
        goals = [
            "## Goals",
            "",
            *table(["goal", "measured", "status", "why not (yet)"], self.goals),
        ]
        return "\n".join(head + goals + self.body + tail)


def write_report(quick: bool) -> Path:
    """Render the results into markdown and charts; returns the markdown's path."""
    report = Report(quick)
    report.queries()
    http_section(report)
    workload_section(report)
    faults_section(report)
    text = report.render()
    path = (RESULTS_DIR / "quick" / "benchmarks.md") if quick else (DOCS_DIR / "benchmarks.md")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    return path

"""docs/benchmarks.md and docs/bench/*.png from the results in bench/results/."""

from __future__ import annotations

from pathlib import Path

from bench.common import DOCS_DIR, RESULTS_DIR
from bench.report_cache import faults_section, workload_section
from bench.report_costs import quotes_section, valuation_section
from bench.report_document import Report
from bench.report_hitpath import hitpath_lines, hitpath_section, splice
from bench.report_speed import http_section, queries_section

SECTIONS = (
    queries_section,
    http_section,
    hitpath_section,
    valuation_section,
    quotes_section,
    workload_section,
    faults_section,
)


def write_report(quick: bool) -> Path:
    """Render the results into markdown and charts; returns the markdown's path."""
    report = Report(quick)
    for section in SECTIONS:
        section(report)
    path = (RESULTS_DIR / "quick" / "benchmarks.md") if quick else (DOCS_DIR / "benchmarks.md")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.render() + "\n")
    return path


def write_hitpath_section() -> Path:
    """Replace only the hit path section of docs/benchmarks.md (the other sections need
    every step's results; ``python -m bench all`` rewrites the whole document)."""
    report = Report(quick=False)
    return splice(DOCS_DIR / "benchmarks.md", hitpath_lines(report.result("hitpath")))

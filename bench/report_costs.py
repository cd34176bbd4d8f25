"""The cost sections of docs/benchmarks.md: an uncached summary's own time, one quote batch.

Each section is a function of the Report it writes into (bench/report_document.py).
"""

from __future__ import annotations

from bench.report_document import Report
from bench.report_text import table, times

REQUEST_COLUMNS = ["", "total p50 ms", "total p99 ms", "SQL p50 ms", "app p50 ms",
                   "app CPU p50 ms", "statements", "instructions (app process)"]  # fmt: skip
QUOTE_COLUMNS = ["holders", "p50 ms", "p99 ms", "CPU p50 ms", "SQL statements",
                 "Redis commands", "instructions"]  # fmt: skip
RENDER_GOAL_MS = 2.0
FLAT_GOAL = 1.2
# The uncached summary before the held-symbols book and the direct dump, same harness
# (python -m bench valuation on commit 219769c, this machine, 2026-11-30): for the record.
BEFORE = {"request_instructions": 122_420_405, "request_p50_ms": 31.9, "app_p50_ms": 27.9,
          "sql_p50_ms": 3.4, "render_instructions": 9_907_038}  # fmt: skip


def valuation_section(report: Report) -> None:
    """Render and uncached request of a 50-holding summary, and the goal under 2 ms."""
    result = report.result("valuation")
    report.body += ["## Uncached summary of 50 holdings: the app's own time", ""]
    if not result:
        report.body += ["Not run.", ""]
        return
    render, request, books = result["render"], result["request"], result["books"]
    rows = [[name, render[name]["cpu_ms"], render[name]["cpu_ms_min"],
             _count(render[name].get("instructions")), render["bytes"]]
            for name in ("marshmallow", "direct")]  # fmt: skip
    report.body += [
        f"Render = `value_portfolio` + `SummarySchema().dump` + the app's JSON provider, as a "
        f"cache miss renders it, {result['holdings']} random holdings (quantities with up to 8 "
        f"places, prices with up to 6) valued at a book of {result['book_size']:,} quotes. CPU "
        "time is thread time (the median of rounds), so waiting for a core another process "
        "holds does not count; instructions are callgrind's, per call"
        + ("" if result["callgrind"] else " (not counted in a --quick run)")
        + ". `marshmallow` is the same summary dumped field by field, as SummarySchema dumped "
        "before it had a direct path; both give the same bytes (checked by the step and by "
        "tests/test_valuation.py).",
        "",
        *table(["render", "CPU ms", "CPU ms (best round)", "instructions", "bytes"], rows),
    ]
    ok = render["direct"]["cpu_ms"] < RENDER_GOAL_MS
    report.goal(f"valuing + serializing 50 holdings < {RENDER_GOAL_MS:g} ms (CPU)",
                f"{render['direct']['cpu_ms']} ms", ok)  # fmt: skip
    report.body += _request_lines(request, books)


def _request_lines(request: dict, books: dict) -> list[str]:
    """The whole uncached request split into SQL and the app, and the book it reads."""
    before = BEFORE
    rows = [["before (scale 1.0, 50 holdings; recorded)", before["request_p50_ms"], "-",
             before["sql_p50_ms"], before["app_p50_ms"], "-", 3,
             _count(before["request_instructions"])],
            ["now", request["total_p50_ms"], request["total_p99_ms"], request["sql_p50_ms"],
             request["app_p50_ms"], request["app_cpu_p50_ms"], request["statements"],
             _count(request.get("instructions"))]]  # fmt: skip
    return [
        f"The whole uncached `GET /api/portfolio/summary` in one process (Flask test client, "
        f"`CACHE_ENABLED=false`, PostgreSQL) for user {request['user_id']} "
        f"({request['holdings']} holdings, {request['bytes']} bytes), {request['requests']} "
        "requests; SQL = time inside cursor execute (round trip and driver), app = the rest.",
        "",
        *table(REQUEST_COLUMNS, rows),
        "The `before` row is the same measurement at scale 1.0 on the commit before this "
        "change, which read the whole price book and dumped field by field (recorded, not "
        "re-run: the old code is gone). Reading the whole book "
        f"({books['whole']['quotes']:,} quotes) takes {books['whole']['cpu_ms']:.2f} ms of CPU in "
        f"this run, the held symbols' quotes ({books['held']['quotes']}) "
        f"{books['held']['cpu_ms']:.2f} ms: the whole book costs "
        f"{times(_ratio(books['whole']['cpu_ms'], books['held']['cpu_ms']))} as much. "
        "A pyinstrument profile of these requests is written to `bench/results/"
        "valuation-profile.txt`.",
        "",
    ]


def quotes_section(report: Report) -> None:
    """One quote batch against 1, 100 and 10,000 holders, and the flatness goal."""
    result = report.result("quotes")
    report.body += ["## One quote batch against the holders of its symbols", ""]
    if not result:
        report.body += ["Not run.", ""]
        return
    holders = result["holders"]
    rows = [[f"{h:,}", f["p50_ms"], f["p99_ms"], f["cpu_p50_ms"], f["sql_statements"],
             f["redis_commands"], _count(f.get("instructions"))]
            for h, f in ((h, result["figures"][str(h)]) for h in holders)]  # fmt: skip
    report.body += [
        f"The feed's own ingestion (`ingest_batch`: validation, `write_quote_batch`, the "
        f"status row, one announcement, the price book published again) of a batch of "
        f"{result['batch']} symbols, each held by the same N users, in a database of its own "
        f"({result['users']:,} users, {result['quotes']:,} quotes, {result['positions']:,} "
        f"positions); {result['rounds']} batches per group, groups in turns. Redis commands "
        "come from INFO commandstats of a redis-server only this step uses; SQL statements "
        "from the engine; instructions from callgrind (the app process only).",
        "",
        *table(QUOTE_COLUMNS, rows),
    ]
    ratios = result["ratios"]
    measure = "instructions" if "instructions" in ratios else "p50_ms"
    ok = ratios[measure] <= FLAT_GOAL
    report.goal(
        f"quote batch: {holders[-1]:,} holders within {FLAT_GOAL}x of {holders[0]} "
        f"({'instructions' if measure == 'instructions' else 'p50 ms'})",
        times(ratios[measure]),
        ok,
        "see the quote batch section",
    )
    report.body += [
        f"{holders[-1]:,} vs {holders[0]} holder(s): p50 ms {times(ratios['p50_ms'])}, CPU "
        f"{times(ratios['cpu_p50_ms'])}"
        + (f", instructions {times(ratios['instructions'])}" if "instructions" in ratios else "")
        + ". No statement or command depends on the holders: a batch publishes the "
        "price book with one new shared generation, once.",
        "",
    ]


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None

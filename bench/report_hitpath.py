"""The cache HIT section of docs/benchmarks.md (``python -m bench hitpath``).

The section sits between two markers, so ``python -m bench hitpath`` can replace it in the
existing document without re-running everything else, and a ``report`` without a hitpath
result keeps the one already written.
"""

from __future__ import annotations

from pathlib import Path

from bench.common import DOCS_DIR
from bench.report_document import Report
from bench.report_text import fmt, table

START, END = "<!-- hitpath:start -->", "<!-- hitpath:end -->"
ENDPOINT_NAMES = {
    "summary": "portfolio summary",
    "notifications": "notifications page",
    "unread": "unread count",
    "public": "public market overview",
}
# (ratio, bound, at most?, what) per goal of the issue
INSTRUCTION_GOALS = (
    ("b/e", 1.10, True, "(b) <= 1.10x (e)"),
    ("b/c", 0.75, True, "(b) <= 0.75x (c)"),
)
WRK_GOALS = (("b/e", 0.95, False, "(b) >= 0.95x (e)"), ("b/c", 1.2, False, "(b) >= 1.2x (c)"))
MOONSHOT = 1.1
TOP_PACKAGES = 12


def hitpath_section(report: Report) -> None:
    """The section from this run's result, else the one the document already has."""
    result = report.result("hitpath")
    if result is None:
        kept = None if report.quick else kept_section(DOCS_DIR / "benchmarks.md")
        report.body += kept or [START, "## Cache HIT cost (hitpath)", "", "Not run.", "", END]
        return
    report.body += hitpath_lines(result)
    for name, ratios in result["instruction_ratios"].items():
        for key, bound, at_most, what in INSTRUCTION_GOALS:
            report.goal(f"{ENDPOINT_NAMES[name]}: instructions {what}", times2(ratios[key]),
                        _met(ratios[key], bound, at_most))  # fmt: skip


def kept_section(path: Path) -> list[str] | None:
    """The lines between the markers of an existing document (markers included)."""
    if not path.exists():
        return None
    lines = path.read_text().splitlines()
    if START not in lines or END not in lines:
        return None
    return lines[lines.index(START) : lines.index(END) + 1]


def splice(path: Path, lines: list[str]) -> Path:
    """Put the section into the document at ``path``: in place of the old one, else before
    the steps table at the end."""
    old = path.read_text().splitlines() if path.exists() else ["# Fynix benchmarks", ""]
    if START in old and END in old:
        new = old[: old.index(START)] + lines + old[old.index(END) + 1 :]
    elif "## Steps" in old:
        new = old[: old.index("## Steps")] + lines + [""] + old[old.index("## Steps") :]
    else:
        new = [*old, "", *lines]
    path.write_text("\n".join(new) + "\n")
    return path


def times2(value: float | None) -> str:
    """A ratio with two decimals (these goals are about 10%)."""
    return "-" if value is None else f"{value:.2f}x"


def _met(value: float | None, bound: float, at_most: bool) -> bool | None:
    if value is None:
        return None
    return value <= bound if at_most else value >= bound


def hitpath_lines(result: dict) -> list[str]:
    """The whole section, markers included."""
    machine = result["machine"]
    lines = [
        START,
        "## Cache HIT cost: instructions per request and wrk (hitpath)",
        "",
        f"`python -m bench hitpath{' --quick' if result['quick'] else ''}` on "
        f"{machine['time']} (commit {machine['commit']}, load average "
        f"{machine['load_average'][0]} before, {result['load_after'][0]} after, "
        f"{machine['nproc']} CPUs). Variants: (a) uncached (CACHE_ENABLED=false), (b) Fynix "
        "HIT (answered before Flask dispatches), (c) the same real view behind plain "
        "Flask-Caching `@cache.cached` (RedisCache, per-user key), (d) ceiling: a bare Flask "
        "app's view returning the same bytes from memory, (e) floor: a bare Flask app's view "
        "doing one MGET on the same Redis and returning its bytes. (d) and (e) are plain "
        "Flask apps without Fynix's hooks (request id, metrics, security headers), stricter "
        "than the http step's. Every variant answers the bytes of the Fynix HIT, checked over "
        "HTTP and in the counted calls ((a) and (c) may differ only in the summary's `as_of`, "
        "the time it was computed).",
        "",
        *_reading(),
        *_instruction_lines(result),
        *_wrk_lines(result),
        *_goal_lines(result),
        *_where_lines(result),
        *_commands(),
        END,
    ]
    return lines


def _reading() -> list[str]:
    return [
        "How to read it: a Fynix HIT is answered by a WSGI layer in front of Flask "
        "(`fynix/hitserver.py`), so it pays no request context, routing or response object, "
        "which (c), (d) and (e) all pay; it does pay the Redis round trip (one MGET of the "
        "entry, its generation and, for a login-only answer, the token's generation and "
        "marker), the token check and the request metrics. The public overview "
        "reads one key, the price book's generation, and renders from the worker's copy of "
        "the book (`fynix/caching/shared.py`), its bytes remembered per generation.",
        "",
    ]


def _instruction_lines(result: dict) -> list[str]:
    rows = []
    for name, by in result["instructions"].items():
        ratios = result["instruction_ratios"][name]
        rows.append([ENDPOINT_NAMES[name], result["bytes"][name],
                     *(f"{by[v]:,}" for v in "abcde"),
                     *(times2(ratios[k]) for k in ("b/e", "b/c", "b/d"))])  # fmt: skip
    header = ["endpoint", "bytes", "(a) uncached", "(b) Fynix HIT", "(c) @cached",
              "(d) ceiling", "(e) floor", "b/e", "b/c", "b/d"]  # fmt: skip
    return [
        "### Instructions per request (callgrind)",
        "",
        f"One process per variant builds its app from the environment its gunicorn gets "
        f"(production config, metrics on), warms up, and callgrind counts "
        f"{result['segments']} segments of {result['calls']} WSGI calls per endpoint "
        f"({result['uncached_calls']} for (a)) with instrumentation on only around each "
        "loop (`bench/callgrind.py`); the median segment is kept. The count does not depend "
        "on what else the machine runs. Instructions of the Python process only (not "
        "Redis', not the database's).",
        "",
        *table(header, rows),
    ]


def _wrk_lines(result: dict) -> list[str]:
    wrk = result["wrk"]
    rows, cpu_rows = [], []
    for name, by in result["rps"].items():
        ratios = result["rps_ratios"][name]
        rows.append([ENDPOINT_NAMES[name], *(f"{by[v]:,}" for v in "abcde"),
                     *(times2(ratios[k]) for k in ("b/e", "b/c", "b/d"))])  # fmt: skip
        cpu, cpu_ratios = result["cpu_us"][name], result["cpu_ratios"][name]
        cpu_rows.append([ENDPOINT_NAMES[name], *(f"{cpu[v]:,}" for v in "abcde"),
                         *(times2(cpu_ratios[k]) for k in ("b/e", "b/c", "b/d"))])  # fmt: skip
    ratios = ["b/e", "b/c", "b/d"]
    return [
        "### Wall clock: wrk against gunicorn (2 workers)",
        "",
        f"`wrk {' '.join(wrk['options'])} -d{wrk['seconds']}s`, one gunicorn per variant (the "
        "shipped gunicorn.conf.py: sync workers, a new connection per request, a JSON access "
        "log line), all started before the first run; in each of "
        f"{wrk['rounds']} round(s) every endpoint runs on every variant in turn (the order "
        "rotates per round); figures are the median of the rounds. wrk shares the 2 CPUs "
        "with the servers and with whatever else the machine runs, so req/s ratios carry "
        "that noise (two runs an hour apart on this box moved single ratios by 0.4x).",
        "",
        "Requests per second:",
        "",
        *table(["endpoint", "(a)", "(b)", "(c)", "(d)", "(e)", *ratios], rows),
        "The same runs, CPU time the two workers spent per request (user + system, "
        "microseconds, from /proc): it hardly depends on other processes taking the cores. "
        "Ratios are inverted into throughput terms (b/e = CPU of (e) / CPU of (b)), so they "
        "read like the req/s ratios would on a machine serving nothing else. Both tables "
        "include what gunicorn and the kernel do per request, which the instruction counts "
        "leave out: a new connection, parsing, the access log line, and gunicorn's work per "
        "response header, of which a Fynix HIT sends more (cache, request id and security "
        "headers; (d) and (e) send two).",
        "",
        *table(["endpoint", *(f"({v}) µs" for v in "abcde"), *ratios], cpu_rows),
    ]


def _goal_lines(result: dict) -> list[str]:
    rows = []
    for label, key, goals in (("instructions", "instruction_ratios", INSTRUCTION_GOALS),
                              ("wrk req/s", "rps_ratios", WRK_GOALS),
                              ("server CPU per request", "cpu_ratios", WRK_GOALS)):  # fmt: skip
        for ratio_key, bound, at_most, what in goals:
            values = {n: r[ratio_key] for n, r in result[key].items()}
            missed = [ENDPOINT_NAMES[n] for n, v in values.items() if not _met(v, bound, at_most)]
            worst = max(values.values()) if at_most else min(values.values())
            status = "met" if not missed else "**not met**: " + ", ".join(missed)
            rows.append([f"{label}: {what} on every endpoint", times2(worst), status])
    overview = result["instruction_ratios"]["public"]["b/d"]
    rows.append([f"moonshot: public overview HIT <= {MOONSHOT}x (d) in instructions",
                 times2(overview), "met" if overview <= MOONSHOT else "**not met**"])  # fmt: skip
    return [
        "### Goals",
        "",
        "The wrk goals are stated in req/s; the CPU rows judge the same bounds on the "
        "workers' CPU per request (as throughput ratios), the figure this shared machine can "
        "settle.",
        "",
        *table(["goal", "worst endpoint", "status"], rows),
    ]


def _where_lines(result: dict) -> list[str]:
    lines = ["### Where the instructions go", ""]
    traced = result.get("bytecodes") or {}
    if traced:
        lines += [
            "Python bytecodes run per request, by package (`sys.settrace` opcode events on "
            "the same in-process calls; callgrind sees only the interpreter's C functions, "
            "so bytecodes say which Python code the instructions are spent for; `<string>` is "
            "code generated by dataclasses and namedtuples). Portfolio summary:",
            "",
        ]
        per = {v: traced[v]["summary"] for v in traced}
        biggest = {p: max(v.get(p, 0) for v in per.values()) for v in per.values() for p in v}
        packages = sorted(biggest, key=lambda p: -biggest[p])
        rows = [[f"`{p}`", *(fmt(per[v].get(p, 0.0), 0) for v in per)]
                for p in packages[:TOP_PACKAGES]]  # fmt: skip
        rows.append(["total", *(fmt(sum(per[v].values()), 0) for v in per)])
        lines += table(["package", *(f"({v})" for v in per)], rows)
    top = result.get("top_functions") or {}
    if top:
        lines += [
            "callgrind_annotate's costliest C functions (self cost, per request) of the "
            "summary in (b) and (e). Python code runs inside the interpreter loop "
            "(`_PyEval_EvalFrameDefault`), so these say what kind of work it is (calls, "
            "allocation, lookups), not whose; the bytecodes above say whose.",
            "",
        ]
        calls = result["calls"]
        for variant in ("b", "e"):
            rows = [[f"`{fn}`", obj, f"{cost // calls:,}"] for cost, fn, obj in
                    top[variant]["summary"][:6]]  # fmt: skip
            lines += [f"({variant}):", "", *table(["function", "object", "instructions"], rows)]
    return lines


def _commands() -> list[str]:
    return [
        "### Re-measure",
        "",
        "```",
        "python -m bench hitpath            # this section only (about 8 minutes)",
        "python -m bench hitpath --quick    # CI's short run (report under bench/results/quick/)",
        "BENCH_REDIS_URL=redis://127.0.0.1:6379/N python -m bench hitpath  # another Redis db",
        "```",
        "",
        "valgrind (callgrind, callgrind_control, callgrind_annotate) and wrk are Debian "
        "packages (`apt-get install valgrind wrk`).",
        "",
    ]

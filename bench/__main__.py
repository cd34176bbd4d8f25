"""``python -m bench all [--quick]``: seed, run every benchmark, write docs/benchmarks.md.

Steps: seed (SQLite, PostgreSQL), queries (both), http, hitpath, valuation, quotes, workload,
faults, report. ``python -m bench hitpath`` (without --quick) rewrites only its own section of
docs/benchmarks.md. Each
step's failure is recorded and the others still run; the exit status is 1 when any step
raised, so CI can run ``--quick`` (tiny scale, short loops) without asserting timings.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable

from bench.common import (
    DEFAULT_REDIS,
    RESULTS_DIR,
    postgres_url,
    save_result,
    sqlite_url,
)

QUICK_SCALE = 0.02
STEP_GROUPS = [
    "all", "seed", "queries", "http", "hitpath", "valuation", "quotes", "workload", "faults"
]  # fmt: skip


def _steps(args: argparse.Namespace) -> dict[str, Callable[[], dict]]:
    from bench import faults, hitpath, http, queries, quote_batches, seed, valuation, workload

    quick, scale = args.quick, args.scale
    lite, pg, redis_url = sqlite_url(quick), postgres_url(quick), args.redis_url
    progress = not quick
    return {
        "seed-sqlite": lambda: seed.seed_database(lite, scale, progress=progress),
        "seed-postgresql": lambda: seed.seed_database(pg, scale, progress=progress),
        "queries-sqlite": lambda: queries.run_queries(lite, quick),
        "queries-postgresql": lambda: queries.run_queries(pg, quick),
        "http": lambda: http.run_http(pg, redis_url, quick),
        "hitpath": lambda: hitpath.run_hitpath(redis_url, quick),
        "valuation": lambda: valuation.run_valuation(pg, quick),
        "quotes": lambda: quote_batches.run_quote_batches(redis_url, quick),
        "workload": lambda: workload.run_workload(pg, redis_url, scale, quick),
        "faults": lambda: faults.run_faults(pg, redis_url, quick),
    }


def run_steps(args: argparse.Namespace, names: list[str]) -> list[str]:
    """Run the named steps, saving each result; returns the names of the failed ones."""
    from bench.machine import machine_info

    steps = _steps(args)
    failed = []
    run = {"quick": args.quick, "scale": args.scale, "started": time.time(), "steps": {}}
    run["machine_before"] = machine_info(args.quick)
    for name in names:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        try:
            result = steps[name]()
            result["step_seconds"] = round(time.perf_counter() - started, 1)
            save_result(_result_name(name, args.quick), result)
            run["steps"][name] = {"seconds": result["step_seconds"], "error": None}
        except Exception as exc:  # record, go on with the other steps, fail at the end
            traceback.print_exc()
            failed.append(name)
            run["steps"][name] = {
                "seconds": round(time.perf_counter() - started, 1),
                "error": f"{type(exc).__name__}: {exc}"[:500],
            }
        print(f"   {run['steps'][name]}", flush=True)
    run["machine_after"] = machine_info(args.quick)
    previous = _load_run(args.quick)
    previous["steps"].update(run["steps"])
    run["steps"] = previous["steps"]
    save_result(_result_name("run", args.quick), run)
    return failed


def _result_name(name: str, quick: bool) -> str:
    return f"quick/{name}" if quick else name


def _load_run(quick: bool) -> dict:
    from bench.common import load_result

    return load_result(_result_name("run", quick)) or {"steps": {}}


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "command",
        choices=[*STEP_GROUPS, "report"],
        help="'all' runs every step and writes the report",
    )
    parser.add_argument("--quick", action="store_true", help="tiny scale, short loops (CI)")
    parser.add_argument("--scale", type=float, default=None, help="default 1.0 (quick: 0.02)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="Redis for the cache (db 10)")
    args = parser.parse_args(argv)
    if args.scale is None:
        args.scale = QUICK_SCALE if args.quick else 1.0
    (RESULTS_DIR / "quick").mkdir(parents=True, exist_ok=True)
    names = list(_steps(args))
    if args.command not in {"all", "report"}:
        names = [n for n in names if n.startswith(args.command)]
    failed: list[str] = []
    started = time.perf_counter()
    if args.command != "report":
        failed = run_steps(args, names)
    from bench.report import write_hitpath_section, write_report

    try:
        if args.command == "hitpath" and not args.quick:
            path = write_hitpath_section() if "hitpath" not in failed else "not written"
        else:
            path = write_report(args.quick)
        print(f"report: {path}")
    except Exception:
        traceback.print_exc()
        failed.append("report")
    print(f"done in {time.perf_counter() - started:.0f} s; failed steps: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bench hitpath``: what a cache HIT costs, in instructions and under wrk.

Four endpoints (summary, notifications page, unread count, public market overview), five
variants: (a) uncached (CACHE_ENABLED=false), (b) Fynix HIT, (c) the real view behind plain
Flask-Caching ``@cache.cached`` (bench/peer_app.py), (d) the ceiling: a bare Flask view
returning the same bytes, (e) the floor: a bare Flask view doing one MGET on the real Redis
and returning its bytes. Every variant must answer the very bytes (a) answers.

Instructions: each variant's app is built in one process under callgrind (the environment
its gunicorn gets), warmed up, and its WSGI calls counted with instrumentation on only
around the loop (bench/callgrind.py): deterministic, whatever else the machine runs. Where
the instructions go: callgrind_annotate's top C functions, and bytecodes per package
(bench/hitpath_cases.py). Wall clock: wrk -t2 -c16 against one gunicorn (2 workers) per
variant, all up at once, variants alternating within each round; the median of the rounds.
The database is a small SQLite file seeded with ``seed-demo`` (a HIT never reads it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import sqlalchemy as sa

from bench import callgrind
from bench.common import BENCH_SECRET, RESULTS_DIR, ROOT, migrate_to, ratio
from bench.hitpath_cases import app_spec, target
from bench.http import _capture_payloads, clear_prefix, mint_tokens, serving
from bench.loadgen import build_request, fetch
from bench.peer_app import ENDPOINTS
from bench.servers import server_env, start_gunicorn

VARIANTS = {
    "a": "uncached (CACHE_ENABLED=false)",
    "b": "Fynix HIT",
    "c": "Flask-Caching @cache.cached",
    "d": "ceiling: bare Flask view, same bytes",
    "e": "floor: bare Flask view, one MGET",
}
# WSGI calls per counted segment, per endpoint and variant (the uncached ones cost 20x more),
# and segments per endpoint (the median is kept)
CALLS = {False: 100, True: 30}
UNCACHED_CALLS = {False: 20, True: 5}
SEGMENTS = {False: 3, True: 1}
ROUNDS = {False: 5, True: 1}
WRK_SECONDS = {False: 3, True: 1}
WRK_OPTIONS = ["-t2", "-c16"]
TOP_FUNCTIONS = 10
DEMO_USERS = 20
AS_OF = re.compile(rb'"as_of":"[^"]*"')
# Entries outlive the run: a summary recomputed after its TTL would carry a new ``as_of``
# (and its MISS would be timed as a HIT).
TTL_SETTINGS = ("CACHE_TTL_PORTFOLIO", "CACHE_TTL_NOTIFICATIONS", "CACHE_TTL_UNREAD_COUNT",
                "CACHE_TTL_MARKET", "CACHE_TTL_PUBLIC", "BENCH_PEER_TTL")  # fmt: skip
LONG_TTLS = dict.fromkeys(TTL_SETTINGS, "7200")


def run_hitpath(redis_url: str, quick: bool = False) -> dict:
    """Bodies checked, instructions per request, wrk req/s; figures and ratios."""
    from bench.machine import machine_info

    machine = machine_info(quick)
    database_url, token = prepare_database(quick)
    clear_prefix(redis_url)
    try:
        with ExitStack() as stack:
            servers, payloads = _start_servers(stack, database_url, redis_url, token)
            byte_counts = _check_served_bodies(servers, token, payloads)
            wall = wall_clock(servers, token, quick)
        envs = {v: variant_env(v, database_url, redis_url, payloads) for v in VARIANTS}
        counted = count_instructions(envs, token, quick)
        traced = {} if quick else {v: trace_bytecodes(envs[v], v, token) for v in "bce"}
    finally:
        clear_prefix(redis_url)
    _check_counted_bodies(counted, payloads)
    instructions = {n: {v: counted[v].instructions[n] for v in VARIANTS} for n in ENDPOINTS}
    return {
        "quick": quick,
        "machine": machine,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "variants": VARIANTS,
        "calls": CALLS[quick],
        "uncached_calls": UNCACHED_CALLS[quick],
        "segments": SEGMENTS[quick],
        "wrk": {"options": WRK_OPTIONS, "seconds": WRK_SECONDS[quick], "rounds": ROUNDS[quick]},
        "bytes": byte_counts,
        "instructions": instructions,
        "instruction_ratios": {name: _ratios(by) for name, by in instructions.items()},
        "rps": {n: {v: f["rps"] for v, f in by.items()} for n, by in wall.items()},
        "cpu_us": {n: {v: f["cpu_us"] for v, f in by.items()} for n, by in wall.items()},
        "rps_ratios": {n: _ratios({v: f["rps"] for v, f in by.items()}) for n, by in wall.items()},
        # as throughput ratios: (e)'s CPU per request over (b)'s is what b/e in req/s would be
        # on a machine where the server alone used the CPUs
        "cpu_ratios": {
            n: _ratios({v: 1 / f["cpu_us"] for v, f in by.items()}) for n, by in wall.items()
        },
        "top_functions": {v: counted[v].top for v in "bce"},
        "bytecodes": traced,
    }


def prepare_database(quick: bool) -> tuple[str, str]:
    """A fresh SQLite file with demo data; (its URL, a token of the user holding most)."""
    from config import DevelopmentConfig
    from fynix import create_app

    path = RESULTS_DIR / ("quick" if quick else "") / "hitpath.db"
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    migrate_to(url, "head")
    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=url, REDIS_URL=None,
                     CACHE_ENABLED=False, SECRET_KEY=BENCH_SECRET, LOG_LEVEL="WARNING")  # fmt: skip
    with app.app_context():
        seeded = app.test_cli_runner().invoke(args=["seed-demo", "--users", str(DEMO_USERS)])
        if seeded.exit_code != 0:
            raise RuntimeError(f"seed-demo failed: {seeded.output}")
        from fynix.extensions import db

        most = "SELECT user_id FROM portfolio_positions GROUP BY user_id ORDER BY count(*) DESC"
        user_id = db.session.scalar(sa.text(most + ", user_id LIMIT 1"))
        db.engine.dispose()
    return url, mint_tokens(url, [user_id])[user_id]


def variant_env(variant: str, database_url: str, redis_url: str, payloads: str) -> dict:
    """The environment of ``variant``'s server (and of its in-process copy)."""
    cached = variant == "b"
    return server_env(database_url, redis_url, cache_enabled=cached, BENCH_PAYLOADS=payloads,
                      **LONG_TTLS)  # fmt: skip


def _requests(variant: str, token: str) -> dict[str, bytes]:
    auth = {"Authorization": f"Bearer {token}"}
    return {
        name: build_request("GET", target(variant, name), auth if per_user else None)
        for name, (_, per_user) in ENDPOINTS.items()
    }


def _start_servers(stack: ExitStack, database_url: str, redis_url: str, token: str):
    """(b) first: its HITs are the bytes the ceiling serves and the floor's key holds."""
    cached = server_env(database_url, redis_url, cache_enabled=True, **LONG_TTLS)
    servers = {"b": stack.enter_context(serving("wsgi:app", cached, "hitpath-b"))}
    requests = _requests("b", token)
    for raw in requests.values():
        fetch(servers["b"].base, raw)  # the MISS that stores; the capture reads a HIT
    payloads = _capture_payloads(servers["b"], requests, redis_url, "hitpath-payloads.json")

    def start(variant: str):
        env = variant_env(variant, database_url, redis_url, payloads)
        return start_gunicorn(app_spec(variant), env, f"hitpath-{variant}")

    with ThreadPoolExecutor(max_workers=4) as pool:  # start-up is mostly waiting
        futures = {variant: pool.submit(start, variant) for variant in "acde"}
    for variant, future in futures.items():
        if future.exception() is None:
            servers[variant] = future.result()
            stack.callback(servers[variant].stop)
    for future in futures.values():
        future.result()  # raises the first failure, once every started server will stop
    return dict(sorted(servers.items())), payloads


def same_answer(body: bytes) -> bytes:
    """The body without the summary's ``as_of`` (when it was computed: (a) computes it on
    every request and (c) at its own miss, so only those two may differ there)."""
    return AS_OF.sub(b'"as_of":"-"', body)


def _check_bodies(variant: str, name: str, body: bytes, expected: bytes) -> None:
    """(b), (d) and (e) answer the very bytes; (a) and (c) the same but for ``as_of``."""
    exact = variant in "bde"
    if (body != expected) if exact else (same_answer(body) != same_answer(expected)):
        at = next((i for i, (x, y) in enumerate(zip(body, expected, strict=False)) if x != y), 0)
        got, want = body[max(0, at - 40) : at + 80], expected[max(0, at - 40) : at + 80]
        raise RuntimeError(f"{variant} {name}: not a Fynix HIT's bytes: {got!r} vs {want!r}")


def _check_served_bodies(servers: dict, token: str, payloads: str) -> dict[str, int]:
    """Every variant answers the HIT's bytes over HTTP (Fynix's answer is a HIT)."""
    expected = _payload_bodies(payloads)
    for variant, server in servers.items():
        for name, raw in _requests(variant, token).items():
            fetch(server.base, raw)  # computes and stores where the variant caches
            response = fetch(server.base, raw)
            if response.status != 200:
                raise RuntimeError(f"{variant} {name}: {response.status} {response.body[:200]!r}")
            if variant == "b" and response.headers.get("x-cache") != "HIT":
                raise RuntimeError(f"b {name}: {response.headers.get('x-cache')}, not a HIT")
            _check_bodies(variant, name, response.body, expected[name])
    return {name: len(body) for name, body in expected.items()}


def _payload_bodies(payloads: str) -> dict[str, bytes]:
    saved = json.loads(Path(payloads).read_text())
    return {name: item["body"].encode() for name, item in saved.items()}


def _check_counted_bodies(counted: dict, payloads: str) -> None:
    """The in-process calls callgrind counted answered the same bytes too."""
    expected = _payload_bodies(payloads)
    for variant, result in counted.items():
        for name, body in result.results.items():
            _check_bodies(variant, name, body, expected[name])


def wall_clock(servers: dict, token: str, quick: bool) -> dict[str, dict[str, dict]]:
    """Per endpoint and variant: wrk's req/s and the workers' CPU microseconds per request
    (user + system, from /proc), each the median of the rounds. Within a round the variants
    take turns (their order rotates), so a busy spell hits them all alike; CPU per request
    hardly moves when other processes take the cores, req/s does."""
    runs = {n: {v: {"rps": [], "cpu_us": []} for v in servers} for n in ENDPOINTS}
    order = list(servers)
    for round_index in range(ROUNDS[quick]):
        turn = order[round_index % len(order) :] + order[: round_index % len(order)]
        for name, (_, per_user) in ENDPOINTS.items():
            for variant in turn:
                server = servers[variant]
                url = "http://{}:{}".format(*server.base) + target(variant, name)
                header = f"Authorization: Bearer {token}" if per_user else None
                before = cpu_seconds(server.worker_pids())
                rps, requests = wrk(url, header, WRK_SECONDS[quick])
                spent = cpu_seconds(server.worker_pids()) - before
                runs[name][variant]["rps"].append(rps)
                runs[name][variant]["cpu_us"].append(spent / requests * 1e6)
    return {
        name: {
            variant: {key: round(statistics.median(values)) for key, values in figures.items()}
            for variant, figures in by_variant.items()
        }
        for name, by_variant in runs.items()
    }


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(url: str, header: str | None, seconds: int) -> tuple[float, int]:
    """(requests per second, requests) of one wrk run; any error or non-2xx answer fails
    the step."""
    command = ["wrk", *WRK_OPTIONS, f"-d{seconds}s", *(["-H", header] if header else []), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True,
                            timeout=seconds + 30).stdout  # fmt: skip
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw errors on {url}:\n{output}")
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)), requests


def count_instructions(envs: dict, token: str, quick: bool) -> dict[str, callgrind.Counted]:
    """Per variant, one process under callgrind (two at a time: counts do not depend on
    what else runs)."""

    def count(variant: str) -> callgrind.Counted:
        arg = json.dumps({"variant": variant, "token": token})
        top = TOP_FUNCTIONS if variant in "bce" else 0
        metrics = tempfile.mkdtemp(prefix="fynix-hitpath-metrics-")  # as gunicorn.conf.py
        env = {**envs[variant], "PROMETHEUS_MULTIPROC_DIR": metrics}
        # Under valgrind a Redis answer may take longer than the shipped 0.25 s timeouts;
        # a timeout would open the breaker and make the counted HITs misses.
        env.update(REDIS_SOCKET_TIMEOUT="5", REDIS_CONNECT_TIMEOUT="5")
        try:
            calls = UNCACHED_CALLS[quick] if variant == "a" else CALLS[quick]
            return callgrind.count_calls("bench.hitpath_cases:wsgi_calls", calls, arg, env,
                                         annotate=top, repeats=SEGMENTS[quick])  # fmt: skip
        finally:
            shutil.rmtree(metrics, ignore_errors=True)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(VARIANTS, pool.map(count, VARIANTS), strict=True))


def trace_bytecodes(env: dict, variant: str, token: str) -> dict[str, dict[str, float]]:
    """Bytecodes per request by package, per endpoint (a child with ``variant``'s env)."""
    with tempfile.TemporaryDirectory(prefix="fynix-hitpath-") as folder:
        out = Path(folder) / "bytecodes.json"
        arg = json.dumps({"variant": variant, "token": token})
        env = {**env, "PYTHONPATH": str(ROOT), "PROMETHEUS_MULTIPROC_DIR": folder}
        subprocess.run([sys.executable, "-m", "bench.hitpath_cases", arg, str(out)],
                       cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)  # fmt: skip
        return json.loads(out.read_text())


def _ratios(by_variant: dict[str, float]) -> dict[str, float | None]:
    """(b) against (e), (c) and (d) for one endpoint (instructions or req/s)."""
    return {f"b/{other}": ratio(by_variant["b"], by_variant[other]) for other in "ecd"}

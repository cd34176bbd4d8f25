"""``python -m bench valuation``: what an uncached summary of 50 holdings costs the app itself.

Render: ``value_portfolio`` + ``SummarySchema().dump`` + the app's JSON provider, as a cache
miss renders it, on 50 seeded random holdings (quantities with up to 8 places, prices with up
to 6) valued at a book of 2,000 quotes; beside it marshmallow's field-by-field dump of the
same summary (how SummarySchema dumped before it had a direct path). CPU time per call (the
median of rounds, so other processes on the box count less) and callgrind instructions.

Request: the whole uncached ``GET /api/portfolio/summary`` in this process (Flask test
client, ``CACHE_ENABLED=false``, the benchmark's PostgreSQL) for the seeded user closest to
50 holdings, split per request into SQL (cursor execute: the round trip and the driver) and
the app's own time; beside it the price book the uncached summary used to read whole.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from flask import Flask

from bench import callgrind
from bench.common import BENCH_SECRET, RESULTS_DIR, ROOT, median, percentile

HOLDINGS = 50
BOOK_SIZE = 2_000
# (rounds, calls per round) of the render; requests of the in-process request loop
ROUNDS = {False: (40, 25), True: (5, 10)}
REQUESTS = {False: 400, True: 40}
CALLGRIND_CALLS = 20


def synthetic_case(seed: int = 7) -> tuple[list, object, datetime]:
    """(holdings, price book, as_of): HOLDINGS holdings among BOOK_SIZE quoted symbols."""
    from fynix.market.prices import PriceBook, QuotePrice
    from fynix.portfolio.valuation import Holding

    rng = random.Random(seed)
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    symbols = [f"S{index:04d}" for index in range(BOOK_SIZE)]
    quotes = {s: QuotePrice(s, _decimal(rng, 8, 6), "USD", now) for s in symbols}
    held = sorted(rng.sample(symbols, HOLDINGS))
    holdings = [Holding(s, _decimal(rng, 8, 8), _decimal(rng, 6, 6)) for s in held]
    return holdings, PriceBook(quotes, now), now


def _decimal(rng: random.Random, whole: int, places: int) -> Decimal:
    return Decimal(rng.randint(1, 10 ** (whole + places))).scaleb(-places)


def render_case(variant: str = "direct") -> Callable[[], bytes]:
    """One summary rendered as a miss renders it; ``marshmallow``: field by field."""
    from marshmallow import Schema

    from config import TestingConfig
    from fynix import create_app
    from fynix.portfolio.schemas import SummarySchema
    from fynix.portfolio.valuation import value_portfolio

    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI="sqlite://", LOG_LEVEL="WARNING")
    app.app_context().push()
    holdings, book, as_of = synthetic_case()
    schema = SummarySchema()
    dump = schema.dump if variant == "direct" else lambda result: Schema.dump(schema, result)

    def render() -> bytes:
        return app.json.response(dump(value_portfolio(holdings, book, as_of))).get_data()

    return render


def request_case(url: str) -> Callable[[], int]:
    """One uncached GET /api/portfolio/summary through the test client."""
    return _summary_client(url)[1]


def _summary_client(url: str) -> tuple[Flask, Callable[[], int]]:
    """(the uncached app, a function that GETs the summary and returns its size)."""
    from bench.http import mint_tokens, pick_summary_user
    from config import DevelopmentConfig
    from fynix import create_app

    user_id, _ = pick_summary_user(url)
    headers = {"Authorization": f"Bearer {mint_tokens(url, [user_id])[user_id]}"}
    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=url, LOG_LEVEL="WARNING",
                     REDIS_URL=None, SECRET_KEY=BENCH_SECRET, CACHE_ENABLED=False)  # fmt: skip
    client = app.test_client()

    def get() -> int:
        response = client.get("/api/portfolio/summary", headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"summary answered {response.status_code}: {response.data[:200]!r}")
        return len(response.data)

    return app, get


def _cpu_per_call(call: Callable, rounds: int, per_round: int) -> dict:
    """CPU ms per call (thread time: waiting for the CPU does not count), median of rounds."""
    for _ in range(per_round):
        call()
    samples = []
    for _ in range(rounds):
        started = time.thread_time()
        for _ in range(per_round):
            call()
        samples.append((time.thread_time() - started) * 1000 / per_round)
    return {"cpu_ms": round(median(samples), 4), "cpu_ms_min": round(min(samples), 4)}


def measure_render(quick: bool) -> dict:
    """Both dumps of the same summary, timed in turns, and their instructions."""
    rounds, per_round = ROUNDS[quick]
    variants = {name: render_case(name) for name in ("marshmallow", "direct")}
    if variants["direct"]() != variants["marshmallow"]():
        raise RuntimeError("the direct dump differs from marshmallow's")
    figures = {name: _cpu_per_call(call, rounds, per_round) for name, call in variants.items()}
    figures["bytes"] = len(variants["direct"]())
    if not quick and callgrind.available():
        for name in variants:
            figures[name]["instructions"] = callgrind.instructions_per_call(
                "bench.valuation:render_case", CALLGRIND_CALLS, name
            )
    return figures


def measure_request(url: str, quick: bool) -> dict:
    """Uncached summaries in-process: total, SQL and app time per request, statements."""
    import sqlalchemy as sa

    from bench.http import pick_summary_user
    from fynix.extensions import db

    app, get = _summary_client(url)
    sql = {"seconds": 0.0, "statements": 0, "started": 0.0}
    with app.app_context():
        engine = db.engine

    def before(*_: object) -> None:
        sql["started"] = time.perf_counter()

    def after(*_: object) -> None:
        sql["seconds"] += time.perf_counter() - sql["started"]
        sql["statements"] += 1

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    for _ in range(10):
        size = get()
    rows = []
    for _ in range(REQUESTS[quick]):
        sql.update(seconds=0.0, statements=0)
        started, cpu = time.perf_counter(), time.thread_time()
        get()
        total, cpu = time.perf_counter() - started, time.thread_time() - cpu
        rows.append((total * 1000, sql["seconds"] * 1000, cpu * 1000, sql["statements"]))
    totals, sqls, cpus, statements = zip(*rows, strict=True)
    apps = [total - in_sql for total, in_sql, *_ in rows]
    user_id, holdings = pick_summary_user(url)
    figures = {
        "user_id": user_id, "holdings": holdings, "bytes": size, "requests": len(rows),
        "total_p50_ms": round(median(totals), 3), "total_p99_ms": round(percentile(totals, 99), 3),
        "sql_p50_ms": round(median(sqls), 3), "app_p50_ms": round(median(apps), 3),
        "app_cpu_p50_ms": round(median(cpus), 3), "statements": statistics.mode(statements),
    }  # fmt: skip
    if not quick and callgrind.available():
        figures["instructions"] = callgrind.instructions_per_call(
            "bench.valuation:request_case", CALLGRIND_CALLS, url
        )
    return figures


def measure_books(url: str, quick: bool) -> dict:
    """Reading the whole price book (what the uncached summary used to read) vs only the
    quotes of the user's holdings (what it reads now), CPU ms per read."""
    from bench.common import bench_app_context
    from bench.http import pick_summary_user
    from fynix.market.prices import load_price_book
    from fynix.portfolio.services import load_holdings

    rounds, _ = ROUNDS[quick]
    user_id, _ = pick_summary_user(url)
    with bench_app_context(url):
        symbols = [holding.symbol for holding in load_holdings(user_id)]
        whole = _cpu_per_call(load_price_book, rounds, 5)
        held = _cpu_per_call(lambda: load_price_book(symbols), rounds, 5)
        quotes = len(load_price_book().quotes)
    return {"whole": {**whole, "quotes": quotes}, "held": {**held, "quotes": len(symbols)}}


def profile_request(url: str, quick: bool) -> str:
    """pyinstrument's profile of uncached summaries, saved as text; returns its path."""
    from pyinstrument import Profiler

    _, get = _summary_client(url)
    for _ in range(10):
        get()
    profiler = Profiler(interval=0.0002)
    with profiler:
        for _ in range(REQUESTS[quick]):
            get()
    path = RESULTS_DIR / ("quick" if quick else "") / "valuation-profile.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(profiler.output_text(unicode=False, color=False))
    return str(path.relative_to(ROOT))


def run_valuation(pg_url: str, quick: bool = False) -> dict:
    """The render and the request, with what each replaced measured beside it."""
    return {
        "holdings": HOLDINGS,
        "book_size": BOOK_SIZE,
        "render": measure_render(quick),
        "request": measure_request(pg_url, quick),
        "books": measure_books(pg_url, quick),
        "callgrind": not quick and callgrind.available(),
        "profile": profile_request(pg_url, quick),
    }

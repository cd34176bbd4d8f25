"""The ``simulated`` provider: a seeded random walk of prices, the same sequence for a seed.

Every batch moves every symbol by a whole number of basis points drawn uniformly from
``[-volatility, +volatility]``, in Decimal arithmetic. Prices keep the column's precision
(cents from 1 up, six places below 1) and never reach zero.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa

from fynix.common.clock import utcnow
from fynix.extensions import db
from fynix.market.feed.base import Batch, QuoteRow
from fynix.market.models import Quote
from fynix.portfolio.models import Position

BASIS = 10_000
CENT = Decimal("0.01")
MICRO = Decimal("0.000001")
MAX_PRICE = Decimal("99999999999999.99")  # what NUMERIC(20, 6) holds, in cents
START_PRICE = Decimal("100.00")

# (price, currency) of each symbol the walk moves.
Start = dict[str, tuple[Decimal, str]]


def step(price: Decimal, basis_points: int) -> Decimal:
    """``price`` moved by ``basis_points``, kept within (0, MAX_PRICE] at the column's scale."""
    moved = price * (BASIS + basis_points) / BASIS
    tick = CENT if moved >= 1 else MICRO
    return min(max(moved.quantize(tick, rounding=ROUND_HALF_EVEN), MICRO), MAX_PRICE)


class SimulatedProvider:
    """A deterministic random walk of ``start``'s prices."""

    def __init__(
        self,
        start: Start,
        seed: int = 42,
        volatility: int = 50,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.prices = {symbol: start[symbol] for symbol in sorted(start)}
        self.rng = random.Random(seed)  # noqa: S311 (a reproducible walk, not a secret)
        self.volatility = volatility
        self.now = now

    def next_batch(self) -> Batch:
        """Move every symbol once; the batch holds the new prices."""
        rows = []
        for symbol, (price, currency) in self.prices.items():
            moved = step(price, self.rng.randint(-self.volatility, self.volatility))
            self.prices[symbol] = (moved, currency)
            rows.append(QuoteRow(symbol, moved, currency, where=symbol))
        return Batch(rows, self.now())


def most_held_stmt(limit: int) -> sa.Select:
    """The ``limit`` symbols held by the most users (ties by symbol)."""
    holders = sa.func.count(Position.user_id)
    return (
        sa.select(Position.symbol)
        .group_by(Position.symbol)
        .order_by(holders.desc(), Position.symbol)
        .limit(limit)
    )


def start_quotes(symbols: list[str] | None = None, most_held: int | None = None) -> Start:
    """Where the walk starts: the given symbols, the most held ones, or every quoted symbol;
    each at its current quote, or at START_PRICE USD when it has none."""
    if most_held is not None:
        symbols = list(db.session.scalars(most_held_stmt(most_held)))
    statement = sa.select(Quote.symbol, Quote.price, Quote.currency)
    if symbols is not None:
        statement = statement.where(Quote.symbol.in_(symbols))
    rows = db.session.execute(statement)
    quoted = {symbol: (price, currency) for symbol, price, currency in rows}
    if symbols is None:
        return quoted
    return {symbol: quoted.get(symbol, (START_PRICE, "USD")) for symbol in symbols}

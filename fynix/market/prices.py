"""The price book: every symbol's last quote, read in one query and shared by every reader.

Quotes change for everyone and often; holdings change per user and rarely. The cache keeps
the two apart (``fynix.caching.shared``): the book is one versioned unit, held by each
process and refreshed only when its version moves, and every quote endpoint, the public
overview and each user's summary are derived from it at read time.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, select

from fynix.common.clock import as_utc, utcnow
from fynix.extensions import db
from fynix.market.models import Quote


@dataclass(frozen=True)
class QuotePrice:
    """One symbol's last price, as the book holds it."""

    symbol: str
    price: Decimal
    currency: str
    updated_at: datetime


@dataclass(frozen=True)
class PriceBook:
    """Every quote by symbol, and when it was read from the database."""

    quotes: dict[str, QuotePrice]
    as_of: datetime

    def get(self, symbol: str) -> QuotePrice | None:
        """The quote of ``symbol``, or None."""
        return self.quotes.get(symbol)

    def ordered(self) -> list[QuotePrice]:
        """Every quote, ordered by symbol."""
        return [self.quotes[symbol] for symbol in sorted(self.quotes)]


def price_book_stmt(symbols: Collection[str] | None = None) -> Select:
    """The one query the book is read with: every quote, or only those of ``symbols``."""
    statement = select(Quote.symbol, Quote.price, Quote.currency, Quote.updated_at)
    if symbols is not None:
        statement = statement.where(Quote.symbol.in_(symbols))
    return statement.order_by(Quote.symbol)


def load_price_book(symbols: Collection[str] | None = None) -> PriceBook:
    """Read every quote now, or only those of ``symbols`` (one query)."""
    as_of = utcnow()
    rows = db.session.execute(price_book_stmt(symbols)).all()
    quotes = {
        row.symbol: QuotePrice(row.symbol, row.price, row.currency, as_utc(row.updated_at))
        for row in rows
    }
    return PriceBook(quotes, as_of)


def encode_price_book(book: PriceBook) -> bytes:
    """Compact JSON; decimals and times as exact strings."""
    rows = [[q.symbol, str(q.price), q.currency, q.updated_at.isoformat()] for q in book.ordered()]
    return json.dumps({"as_of": book.as_of.isoformat(), "quotes": rows}).encode()


def decode_price_book(raw: bytes) -> PriceBook:
    """The inverse of ``encode_price_book`` (ValueError/KeyError/TypeError when malformed)."""
    data = json.loads(raw)
    quotes = {
        symbol: QuotePrice(symbol, Decimal(price), currency, datetime.fromisoformat(updated))
        for symbol, price, currency, updated in data["quotes"]
    }
    return PriceBook(quotes, datetime.fromisoformat(data["as_of"]))

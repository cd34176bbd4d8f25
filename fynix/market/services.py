"""Market rules: reading quotes and writing them (one from the API, many from the CLI)."""

from __future__ import annotations

from collections.abc import Callable

from marshmallow import ValidationError
from sqlalchemy.dialects import postgresql, sqlite

from fynix.caching import events
from fynix.common.clock import utcnow
from fynix.common.fields import SYMBOL_INPUT_RE, SYMBOL_RE
from fynix.errors import APIError, NotFound, describe_validation
from fynix.extensions import db
from fynix.market.models import Quote
from fynix.market.prices import PriceBook, QuotePrice
from fynix.market.schemas import QuoteRowSchema

# Rows per INSERT statement: 4 bound values each stays far below SQLite's variable limit.
UPSERT_CHUNK = 500


def normalize_symbol(symbol: str) -> str | None:
    """The upper-case form of ``symbol``, or None when it cannot be a symbol."""
    normalized = symbol.strip().upper()
    return normalized if SYMBOL_RE.match(normalized) else None


def path_symbol(symbol: str) -> str | None:
    """The upper-case form of a symbol from a URL, or None unless it is exactly a symbol
    (any case, nothing around it: what the OpenAPI document's pattern allows)."""
    return symbol.upper() if SYMBOL_INPUT_RE.fullmatch(symbol) else None


def quote_from_book(book: PriceBook, symbol: str) -> QuotePrice:
    """The quote of ``symbol`` (any case); 404 when unknown or not a valid symbol."""
    normalized = path_symbol(symbol)
    quote = book.get(normalized) if normalized else None
    if quote is None:
        raise NotFound(f"No quote for {normalized}." if normalized else "No such symbol.")
    return quote


def quotes_from_book(book: PriceBook, symbols: list[str]) -> dict:
    """Known quotes of ``symbols`` in the requested order, plus the missing symbols."""
    return {
        "items": [book.quotes[symbol] for symbol in symbols if symbol in book.quotes],
        "missing": [symbol for symbol in symbols if symbol not in book.quotes],
    }


def overview_from_book(book: PriceBook) -> dict:
    """Every symbol with its last price, ordered by symbol, as of the book's read."""
    quotes = book.ordered()
    return {"items": quotes, "count": len(quotes), "as_of": book.as_of}


def put_quote(symbol: str, data: dict) -> tuple[Quote, bool]:
    """Create or replace the quote of ``symbol``; returns (quote, created).

    An invalid symbol is 422 here (it is input to store), whereas reading one is 404.
    """
    normalized = path_symbol(symbol)
    if normalized is None:
        raise APIError(
            "The request has invalid fields.", 422, errors={"symbol": ["Not a valid symbol."]}
        )
    created = db.session.get(Quote, normalized) is None
    _upsert([{"symbol": normalized, "price": data["price"], "currency": data["currency"]}])
    db.session.commit()
    events.quotes_changed([normalized])
    return db.session.get(Quote, normalized), created


def upsert_quotes(rows: list[dict]) -> int:
    """Write many quotes ``{symbol, price, currency?}`` in one transaction.

    Rows are validated like the API's input (marshmallow.ValidationError on bad rows,
    nothing written); a symbol given twice keeps its last row. Returns the number of
    symbols written.
    """
    loaded = QuoteRowSchema(many=True).load(rows)
    return write_quote_batch(loaded) if loaded else 0


def load_quote_rows(rows: list[dict]) -> tuple[list[dict], list[tuple[int, str]]]:
    """Validate ``rows`` one by one: the loaded good rows, and (index, reason) of each bad one."""
    schema = QuoteRowSchema()
    loaded: list[dict] = []
    problems: list[tuple[int, str]] = []
    for index, row in enumerate(rows):
        try:
            loaded.append(schema.load(row))
        except ValidationError as exc:
            problems.append((index, describe_validation(exc.messages)))
    return loaded, problems


def write_quote_batch(rows: list[dict], also: Callable[[], None] | None = None) -> int:
    """Write loaded quote rows, and whatever ``also`` writes, in ONE transaction; announce once.

    Any error rolls the whole batch back (nothing of it stays) and propagates. A symbol given
    twice keeps its last row. Returns the number of symbols written.
    """
    latest = {row["symbol"]: row for row in rows}
    try:
        if latest:
            _upsert(list(latest.values()))
        if also is not None:
            also()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if latest:
        events.quotes_changed(list(latest))
    return len(latest)


def _upsert(rows: list[dict]) -> None:
    """INSERT ... ON CONFLICT (symbol) DO UPDATE, so concurrent writers never collide."""
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    now = utcnow()
    values = [{**row, "updated_at": now} for row in rows]
    for start in range(0, len(values), UPSERT_CHUNK):
        statement = insert(Quote).values(values[start : start + UPSERT_CHUNK])
        statement = statement.on_conflict_do_update(
            index_elements=[Quote.symbol],
            set_={
                "price": statement.excluded.price,
                "currency": statement.excluded.currency,
                "updated_at": statement.excluded.updated_at,
            },
        )
        db.session.execute(statement)

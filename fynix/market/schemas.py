"""Schemas of quotes: one quote, several at once, writes and the public overview."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields

from fynix.common.fields import (
    SYMBOL_INPUT_RE,
    FullMatch,
    Symbol,
    UTCDateTimeField,
    money_field,
    normalize_symbol,
)

MAX_SYMBOLS = 50
CURRENCY_RE = r"^[A-Z]{3}$"
_ONE = SYMBOL_INPUT_RE.pattern.strip("^$")
# Symbols in any case, comma separated, spaces around a comma allowed: " aapl , MSFT".
SYMBOL_LIST_PATTERN = rf"^ *{_ONE} *(, *{_ONE} *){{0,{MAX_SYMBOLS - 1}}}$"


class SymbolList(fields.String):
    """A comma-separated list of symbols, loaded as a de-duplicated upper-case list."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        text = super()._deserialize(value, attr, data, **kwargs)
        symbols = [normalize_symbol(part.strip(" ")) for part in text.split(",")]
        if len(symbols) > MAX_SYMBOLS:
            raise ValidationError(f"At most {MAX_SYMBOLS} symbols.")
        if not all(symbols):
            raise ValidationError(
                "Each symbol must be 1-16 characters: A-Z, 0-9, '.', '-', comma separated."
            )
        return list(dict.fromkeys(symbol.upper() for symbol in symbols))


class QuoteSchema(Schema):
    """The last known price of a symbol."""

    symbol = fields.String(required=True, metadata={"example": "AAPL"})
    price = money_field(required=True)
    currency = fields.String(required=True, metadata={"example": "USD"})
    updated_at = UTCDateTimeField(required=True)


class QuoteListArgsSchema(Schema):
    """Query arguments of GET /api/market/quotes."""

    symbols = SymbolList(
        required=True,
        metadata={
            "description": f"Comma-separated symbols (any case), 1 to {MAX_SYMBOLS}",
            "example": "AAPL,MSFT",
            "pattern": SYMBOL_LIST_PATTERN,
        },
    )


class QuoteBatchSchema(Schema):
    """Known quotes in the requested order, and the symbols that have none."""

    items = fields.List(fields.Nested(QuoteSchema), required=True)
    missing = fields.List(fields.String(), required=True)


class QuoteWriteSchema(Schema):
    """Body of PUT /api/market/quotes/<symbol>."""

    price = money_field(required=True)
    currency = fields.String(
        load_default="USD",
        validate=FullMatch(CURRENCY_RE, "Three upper-case letters (ISO 4217)."),
        metadata={"example": "USD", "pattern": CURRENCY_RE},
    )


class QuoteRowSchema(QuoteWriteSchema):
    """One row of a bulk quote load (``flask market load``)."""

    symbol = Symbol(required=True)


class MarketOverviewSchema(Schema):
    """GET /api/public/market-overview: every symbol with its last price."""

    items = fields.List(fields.Nested(QuoteSchema), required=True)
    count = fields.Integer(required=True)
    as_of = UTCDateTimeField(required=True)

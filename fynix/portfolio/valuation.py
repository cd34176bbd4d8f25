"""Valuing holdings at a price book: exact Decimal arithmetic, half-even rounding, fast.

A line's cost and market value are quantity x price rounded once to cents; totals are exact
sums of those cents; weights and the P&L percentage are ratios rounded once. Products and
sums run in a context that traps any inexact result, so no digit is ever lost silently;
ratios are computed to 200 significant digits and then rounded, far more than any valid
amount needs to make that rounding exact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)

from fynix.market.prices import PriceBook

EXACT = Context(
    prec=200, rounding=ROUND_HALF_EVEN, traps=[Inexact, InvalidOperation, Overflow, DivisionByZero]
)
ROUNDING = Context(prec=200, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, Overflow])
CENT = Decimal("0.01")
WEIGHT = Decimal("0.0001")
ZERO_CENTS = Decimal("0.00")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Holding:
    """What a user holds of one symbol: the part of a summary that changes per user."""

    symbol: str
    quantity: Decimal
    average_cost: Decimal


def to_cents(value: Decimal) -> Decimal:
    """Round an exact amount half-to-even to cents (the one rounding of a line)."""
    return value.quantize(CENT, context=ROUNDING)


def ratio(numerator: Decimal, denominator: Decimal, unit: Decimal) -> Decimal | None:
    """numerator / denominator rounded half-even to ``unit``; None when dividing by 0."""
    if not denominator:
        return None
    return ROUNDING.divide(numerator, denominator).quantize(unit, context=ROUNDING)


def value_holding(holding: Holding, book: PriceBook) -> dict:
    """One summary line; a symbol without a quote is valued at its average cost."""
    quote = book.get(holding.symbol)
    price = quote.price if quote is not None else holding.average_cost
    cost = to_cents(EXACT.multiply(holding.quantity, holding.average_cost))
    market_value = to_cents(EXACT.multiply(holding.quantity, price))
    return {
        "symbol": holding.symbol,
        "quantity": holding.quantity,
        "average_cost": holding.average_cost,
        "price": price,
        "price_source": "quote" if quote is not None else "cost",
        "currency": quote.currency if quote is not None else None,
        "market_value": market_value,
        "cost": cost,
        "unrealized_pnl": EXACT.subtract(market_value, cost),
    }


def value_portfolio(holdings: list[Holding], book: PriceBook, as_of: datetime) -> dict:
    """The summary of ``holdings`` valued at ``book`` (same keys as SummarySchema)."""
    lines = [value_holding(holding, book) for holding in holdings]
    total_cost = market_value = ZERO_CENTS
    for line in lines:
        total_cost = EXACT.add(total_cost, line["cost"])
        market_value = EXACT.add(market_value, line["market_value"])
    for line in lines:
        line["weight"] = ratio(line["market_value"], market_value, WEIGHT)
    pnl = EXACT.subtract(market_value, total_cost)
    return {
        "positions_count": len(lines),
        "total_cost": total_cost,
        "market_value": market_value,
        "unrealized_pnl": pnl,
        "unrealized_pnl_pct": ratio(EXACT.multiply(pnl, HUNDRED), total_cost, CENT),
        "holdings": lines,
        "as_of": as_of,
    }


def encode_holdings(holdings: list[Holding]) -> bytes:
    """Compact JSON of the holdings, decimals as exact strings (a cache unit)."""
    rows = [[h.symbol, str(h.quantity), str(h.average_cost)] for h in holdings]
    return json.dumps(rows, separators=(",", ":")).encode()


def decode_holdings(raw: bytes) -> list[Holding]:
    """The inverse of ``encode_holdings``."""
    return [Holding(symbol, Decimal(q), Decimal(c)) for symbol, q, c in json.loads(raw)]

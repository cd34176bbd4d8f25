"""Portfolio rules: a user's positions and their valuation at the last quotes."""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from functools import reduce

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from fynix.caching import events
from fynix.common.clock import utcnow
from fynix.common.pagination import Page, paginate
from fynix.errors import Conflict, NotFound
from fynix.extensions import db
from fynix.market.models import Quote
from fynix.portfolio.models import Position

# Wide enough that sums and differences of cent amounts are never rounded; Inexact is
# trapped so a lost digit raises instead of silently corrupting money.
_EXACT = decimal.Context(
    prec=200,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero],
)
ZERO_CENTS = Decimal("0.00")
MAX_ID = 2**31 - 1  # portfolio_positions.id is a 32-bit INTEGER: larger ids cannot exist


def positions_page_stmt(user_id: int, symbol: str | None = None) -> Select:
    """The user's positions ordered by symbol (then id): what list_positions pages."""
    statement = select(Position).where(Position.user_id == user_id)
    if symbol:
        statement = statement.where(Position.symbol == symbol)
    return statement.order_by(Position.symbol, Position.id)


def list_positions(user_id: int, page: int, per_page: int, symbol: str | None = None) -> Page:
    """One page of the user's positions, ordered by symbol."""
    return paginate(positions_page_stmt(user_id, symbol), page, per_page)


def holders_stmt(symbols: Iterable[str]) -> Select:
    """The users holding any of ``symbols`` (idx_portfolio_positions_symbol).

    Their cached summaries depend on those symbols' quotes; a quote change invalidates them.
    """
    return select(Position.user_id).where(Position.symbol.in_(list(symbols))).distinct()


def get_position(user_id: int, position_id: int) -> Position:
    """The user's position ``position_id``; 404 when missing or someone else's."""
    position = db.session.get(Position, position_id) if 0 < position_id <= MAX_ID else None
    if position is None or position.user_id != user_id:
        raise NotFound("No such position.")
    return position


def create_position(user_id: int, data: dict) -> Position:
    """Open a position; 409 when the user already holds that symbol."""
    symbol = data["symbol"]
    taken = select(Position.id).where(Position.user_id == user_id, Position.symbol == symbol)
    if db.session.scalar(taken) is not None:
        raise _duplicate(symbol)
    position = Position(
        user_id=user_id,
        symbol=symbol,
        quantity=data["quantity"],
        average_cost=data["average_cost"],
    )
    db.session.add(position)
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent request created the same symbol between the check and the insert.
        db.session.rollback()
        raise _duplicate(symbol) from None
    events.positions_changed(user_id)
    return position


def update_position(user_id: int, position_id: int, changes: dict) -> Position:
    """Change the quantity and/or the average cost of one of the user's positions."""
    position = get_position(user_id, position_id)
    for key, value in changes.items():
        setattr(position, key, value)
    db.session.commit()
    events.positions_changed(user_id)
    return position


def delete_position(user_id: int, position_id: int) -> None:
    """Close (delete) one of the user's positions."""
    db.session.delete(get_position(user_id, position_id))
    db.session.commit()
    events.positions_changed(user_id)


def get_summary(user_id: int) -> dict:
    """Value every position at its quote (or at cost) with exact, half-even rounding."""
    statement = (
        select(Position, Quote)
        .outerjoin(Quote, Quote.symbol == Position.symbol)
        .where(Position.user_id == user_id)
        .order_by(Position.symbol)
    )
    holdings = [
        _value_holding(position, quote) for position, quote in db.session.execute(statement)
    ]
    total_cost = _sum(holding["cost"] for holding in holdings)
    market_value = _sum(holding["market_value"] for holding in holdings)
    pnl = _EXACT.subtract(market_value, total_cost)
    for holding in holdings:
        holding["weight"] = _ratio(holding["market_value"], market_value, places=4)
    pnl_pct = _ratio(pnl, total_cost, places=2, scale=100)
    return {
        "positions_count": len(holdings),
        "total_cost": total_cost,
        "market_value": market_value,
        "unrealized_pnl": pnl,
        "unrealized_pnl_pct": pnl_pct,
        "holdings": holdings,
        "as_of": utcnow(),
    }


def _value_holding(position: Position, quote: Quote | None) -> dict:
    """One summary line; a symbol without a quote is valued at its average cost."""
    price = quote.price if quote is not None else position.average_cost
    cost = round_exact(Fraction(position.quantity) * Fraction(position.average_cost), 2)
    market_value = round_exact(Fraction(position.quantity) * Fraction(price), 2)
    return {
        "symbol": position.symbol,
        "quantity": position.quantity,
        "average_cost": position.average_cost,
        "price": price,
        "price_source": "quote" if quote is not None else "cost",
        "currency": quote.currency if quote is not None else None,
        "market_value": market_value,
        "cost": cost,
        "unrealized_pnl": _EXACT.subtract(market_value, cost),
    }


def round_exact(value: Decimal | Fraction, places: int) -> Decimal:
    """Round an exact value half-to-even to ``places`` decimals, with no float and no
    intermediate rounding (the Fraction keeps every digit until the one rounding)."""
    rounded = round(Fraction(value), places)
    quotient = _EXACT.divide(Decimal(rounded.numerator), Decimal(rounded.denominator))
    return quotient.quantize(Decimal(1).scaleb(-places), context=_EXACT)


def _ratio(
    numerator: Decimal, denominator: Decimal, *, places: int, scale: int = 1
) -> Decimal | None:
    """scale * numerator / denominator rounded half-even; None when the denominator is 0."""
    if denominator == 0:
        return None
    return round_exact(Fraction(numerator) * scale / Fraction(denominator), places)


def _sum(values: Iterable[Decimal]) -> Decimal:
    """Exact sum of cent amounts (``0.00`` for none)."""
    return reduce(_EXACT.add, values, ZERO_CENTS)


def _duplicate(symbol: str) -> Conflict:
    return Conflict(
        f"You already hold a position in {symbol}; change it instead.",
        errors={"symbol": ["A position in this symbol already exists."]},
    )

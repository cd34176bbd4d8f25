"""Portfolio rules: a user's positions and their valuation at the last quotes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, delete, select, update
from sqlalchemy.exc import IntegrityError

from fynix.caching import events
from fynix.common.clock import utcnow
from fynix.common.ids import get_by_id, is_id
from fynix.common.pagination import Page, paginate
from fynix.errors import Conflict, NotFound
from fynix.extensions import db
from fynix.market.prices import PriceBook, load_price_book
from fynix.portfolio.models import Position
from fynix.portfolio.valuation import Holding, value_portfolio


def positions_page_stmt(user_id: int, symbol: str | None = None) -> Select:
    """The user's positions ordered by symbol (then id): what list_positions pages."""
    statement = select(Position).where(Position.user_id == user_id)
    if symbol:
        statement = statement.where(Position.symbol == symbol)
    return statement.order_by(Position.symbol, Position.id)


def list_positions(user_id: int, page: int, per_page: int, symbol: str | None = None) -> Page:
    """One page of the user's positions, ordered by symbol."""
    return paginate(positions_page_stmt(user_id, symbol), page, per_page)


def get_position(user_id: int, position_id: int) -> Position:
    """The user's position ``position_id``; 404 when missing or someone else's."""
    position = get_by_id(Position, position_id)
    if position is None or position.user_id != user_id:
        raise NotFound("No such position.")
    return position


def _owned(user_id: int, position_id: int) -> ColumnElement[bool]:
    """The one row a user's write may touch, so the database settles a race with a DELETE."""
    if not is_id(position_id):
        raise NotFound("No such position.")
    return and_(Position.id == position_id, Position.user_id == user_id)


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
    """Change the quantity and/or the average cost of one of the user's positions.

    One conditional UPDATE ... RETURNING: a position deleted meanwhile matches no row
    and is a 404, never a stale write.
    """
    statement = update(Position).where(_owned(user_id, position_id)).values(**changes)
    position = db.session.scalars(
        statement.returning(Position).execution_options(synchronize_session=False)
    ).one_or_none()
    if position is None:
        db.session.rollback()
        raise NotFound("No such position.")
    # The answer is the row as this UPDATE wrote it, detached so that the commit does not
    # expire it into a reload of a row that a concurrent DELETE may have removed since.
    db.session.expunge(position)
    db.session.commit()
    events.positions_changed(user_id)
    return position


def delete_position(user_id: int, position_id: int) -> None:
    """Close (delete) one of the user's positions; 404 when no row matched (a race too)."""
    statement = delete(Position).where(_owned(user_id, position_id))
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    if result.rowcount == 0:
        db.session.rollback()
        raise NotFound("No such position.")
    db.session.commit()
    events.positions_changed(user_id)


def holdings_stmt(user_id: int) -> Select:
    """The user's holdings, ordered by symbol (idx_portfolio_positions_user_symbol)."""
    return (
        select(Position.symbol, Position.quantity, Position.average_cost)
        .where(Position.user_id == user_id)
        .order_by(Position.symbol)
    )


def load_holdings(user_id: int) -> list[Holding]:
    """What the user holds (one query): the per-user part of a summary."""
    rows = db.session.execute(holdings_stmt(user_id)).all()
    return [Holding(row.symbol, row.quantity, row.average_cost) for row in rows]


def get_summary(user_id: int) -> dict:
    """The user's holdings valued at their last quotes, both read now (two queries).

    Uncached, only the held symbols' quotes are read: the whole book (thousands of rows)
    is worth reading once for every reader, which is what the cache does with it.
    """
    holdings = load_holdings(user_id)
    book = load_price_book([holding.symbol for holding in holdings])
    return value_portfolio(holdings, book, utcnow())


def render_summary(holdings: list[Holding], book: PriceBook, holdings_read_at: datetime) -> dict:
    """The summary from cached parts, as of the later of the two reads it is made of."""
    return value_portfolio(holdings, book, max(book.as_of, holdings_read_at))


def _duplicate(symbol: str) -> Conflict:
    return Conflict(
        f"You already hold a position in {symbol}; change it instead.",
        errors={"symbol": ["A position in this symbol already exists."]},
    )

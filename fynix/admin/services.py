"""Queries of the admin users page: search, one page, and per-user counts without N+1."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import abort
from sqlalchemy import Select, func, or_, select

from fynix.common.ids import get_by_id
from fynix.common.pagination import Page, paginate
from fynix.extensions import db
from fynix.notifications.models import Notification
from fynix.notifications.services import UNREAD
from fynix.portfolio.models import Position
from fynix.users.models import User

PER_PAGE = 20


@dataclass(frozen=True)
class UserRow:
    """A user with the counts the users page shows."""

    user: User
    positions_count: int
    unread_count: int


def get_user(user_id: int) -> User:
    """The user with this id, or the 404 page."""
    user = get_by_id(User, user_id)
    if user is None:
        abort(404, "There is no user with this id.")
    return user


def _counts(statement: Select) -> dict[int, int]:
    return dict(db.session.execute(statement).all())


def _count_per_user(ids: Iterable[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Positions and unread notifications of these users: two grouped queries."""
    ids = list(ids)
    if not ids:
        return {}, {}
    positions = _counts(
        select(Position.user_id, func.count())
        .where(Position.user_id.in_(ids))
        .group_by(Position.user_id)
    )
    unread = _counts(
        select(Notification.user_id, func.count())
        .where(Notification.user_id.in_(ids), UNREAD)
        .group_by(Notification.user_id)
    )
    return positions, unread


def list_users(search: str | None, page: int, per_page: int = PER_PAGE) -> Page:
    """One page of users (by id) whose username or email contains ``search``, any case."""
    statement = select(User).order_by(User.id)
    if search:
        statement = statement.where(
            or_(
                User.username.icontains(search, autoescape=True),
                User.email.icontains(search, autoescape=True),
            )
        )
    result = paginate(statement, page, per_page)
    positions, unread = _count_per_user(user.id for user in result.items)
    rows = [
        UserRow(user, positions.get(user.id, 0), unread.get(user.id, 0)) for user in result.items
    ]
    return Page(items=rows, page=result.page, per_page=result.per_page, total=result.total)

"""Notification rules: list, count, mark read, delete, and send (admin)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select, and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from fynix.caching import events
from fynix.common.clock import utcnow
from fynix.common.ids import get_by_id, is_id
from fynix.common.pagination import Page, paginate
from fynix.errors import NotFound
from fynix.extensions import db
from fynix.notifications.models import Notification
from fynix.users.models import User

# Literal false (never a bound parameter) so the partial "unread" indexes match the query.
UNREAD = Notification.is_read == sa.false()


def notifications_page_stmt(
    user_id: int, *, unread: bool | None = None, type: str | None = None
) -> Select:
    """The user's notifications newest first, optionally filtered: what list_notifications pages.

    ``unread=True`` is served by idx_notifications_user_unread_created, a ``type``
    by idx_notifications_user_type_created; both are scoped to the user first.
    """
    statement = select(Notification).where(Notification.user_id == user_id)
    if unread is True:
        statement = statement.where(UNREAD)
    elif unread is False:
        statement = statement.where(Notification.is_read == sa.true())
    if type is not None:
        statement = statement.where(Notification.type == type)
    return statement.order_by(Notification.created_at.desc(), Notification.id.desc())


def list_notifications(
    user_id: int,
    *,
    page: int,
    per_page: int,
    unread: bool | None = None,
    type: str | None = None,
) -> Page:
    """One page of the user's notifications, newest first, optionally filtered."""
    return paginate(notifications_page_stmt(user_id, unread=unread, type=type), page, per_page)


def unread_count_stmt(user_id: int) -> Select:
    """How many of the user's notifications are unread (idx_notifications_user_unread)."""
    return (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, UNREAD)
    )


def count_unread(user_id: int) -> int:
    """How many of the user's notifications are unread."""
    return db.session.scalar(unread_count_stmt(user_id)) or 0


def get_notification(user_id: int, notification_id: int) -> Notification:
    """The user's own notification; 404 when it is missing or someone else's."""
    notification = get_by_id(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise NotFound("Notification not found.")
    return notification


def _owned(user_id: int, notification_id: int) -> ColumnElement[bool]:
    """The one row a user's write may touch, so the database settles a race with a DELETE."""
    if not is_id(notification_id):
        raise NotFound("Notification not found.")
    return and_(Notification.id == notification_id, Notification.user_id == user_id)


def mark_read(user_id: int, notification_id: int) -> Notification:
    """Mark one notification read; idempotent, ``read_at`` keeps its first value.

    One conditional UPDATE ... RETURNING: of two concurrent requests only one sets
    read_at, and a notification deleted meanwhile is a 404.
    """
    statement = (
        update(Notification)
        .where(_owned(user_id, notification_id), UNREAD)
        .values(is_read=True, read_at=utcnow())
        .returning(Notification)
        .execution_options(synchronize_session=False)
    )
    notification = db.session.scalars(statement).one_or_none()
    if notification is None:  # already read, or not (any longer) the user's
        notification = get_notification(user_id, notification_id)
        events.unchanged()
        return notification
    # Detached, so the commit does not expire it into a reload of a deleted row.
    db.session.expunge(notification)
    db.session.commit()
    events.notifications_changed(user_id)
    return notification


def mark_all_read(user_id: int) -> int:
    """Mark every unread notification of the user read in one UPDATE; returns the count."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, UNREAD)
        .values(is_read=True, read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount:
        events.notifications_changed(user_id)
    else:
        events.unchanged()
    return result.rowcount


def delete_notification(user_id: int, notification_id: int) -> None:
    """Delete one of the user's notifications; 404 when no row matched (a race too)."""
    statement = delete(Notification).where(_owned(user_id, notification_id))
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    if result.rowcount == 0:
        db.session.rollback()
        raise NotFound("Notification not found.")
    db.session.commit()
    events.notifications_changed(user_id)


def _unknown_recipient() -> NotFound:
    return NotFound("No user with this id: the notification has no recipient.")


def send_notification(
    user_id: int,
    type: str,
    title: str,
    body: str,
) -> Notification:
    """Deliver a notification to ``user_id``.

    An unknown recipient is a 404: the body is well formed (a 422 would say it is not,
    and no schema can say which ids exist); what the request names is not there.
    """
    if get_by_id(User, user_id) is None:
        raise _unknown_recipient()
    notification = Notification(user_id=user_id, type=type, title=title, body=body)
    db.session.add(notification)
    try:
        db.session.commit()
    except IntegrityError:  # the recipient was deleted meanwhile
        db.session.rollback()
        raise _unknown_recipient() from None
    events.notifications_changed(user_id)
    return notification

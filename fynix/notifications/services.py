"""Notification rules: list, count, mark read, delete, and send (admin)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError

from fynix.caching import events
from fynix.common.clock import utcnow
from fynix.common.pagination import Page, paginate
from fynix.errors import APIError, NotFound
from fynix.extensions import db
from fynix.notifications.models import Notification
from fynix.users.models import User

# Ids beyond the INTEGER column's range cannot exist; SQLite would even refuse to bind them.
MAX_ID = 2**31 - 1

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
    notification = None
    if 0 < notification_id <= MAX_ID:
        notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise NotFound("Notification not found.")
    return notification


def mark_read(user_id: int, notification_id: int) -> Notification:
    """Mark one notification read; idempotent, ``read_at`` keeps its first value."""
    notification = get_notification(user_id, notification_id)
    if notification.is_read:
        return notification
    # Conditional UPDATE: of two concurrent requests only one sets read_at.
    db.session.execute(
        update(Notification)
        .where(Notification.id == notification.id, UNREAD)
        .values(is_read=True, read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
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
    return result.rowcount


def delete_notification(user_id: int, notification_id: int) -> None:
    """Delete one of the user's notifications."""
    notification = get_notification(user_id, notification_id)
    db.session.delete(notification)
    db.session.commit()
    events.notifications_changed(user_id)


def _unknown_recipient() -> APIError:
    return APIError(
        "The request has invalid fields.", 422, errors={"user_id": ["No user with this id."]}
    )


def send_notification(
    user_id: int,
    type: str,
    title: str,
    body: str,
) -> Notification:
    """Deliver a notification to ``user_id``.

    An unknown recipient is a 422 with a field error on ``user_id`` (not a 404): the
    URL names the notifications collection, which exists; what is wrong is a field
    of the submitted body, exactly like any other invalid field.
    """
    if not 0 < user_id <= MAX_ID or db.session.get(User, user_id) is None:
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

"""The Notification model: an in-app message to one user."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fynix.common.clock import utcnow
from fynix.common.types import UTCDateTime
from fynix.extensions import db

# The partial-index predicate, spelled as each dialect renders `is_read == false()`.
UNREAD_SQLITE = sa.text("is_read = 0")
UNREAD_POSTGRESQL = sa.text("is_read = false")


class Notification(db.Model):
    """One message; ``read_at`` is set when ``is_read`` turns true."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index(
            "idx_notifications_user_unread",
            "user_id",
            "is_read",
            sqlite_where=UNREAD_SQLITE,
            postgresql_where=UNREAD_POSTGRESQL,
        ),
        sa.Index(
            "idx_notifications_user_unread_created",
            "user_id",
            "created_at",
            sqlite_where=UNREAD_SQLITE,
            postgresql_where=UNREAD_POSTGRESQL,
        ),
        sa.Index("idx_notifications_user_created", "user_id", "created_at"),
        sa.Index("idx_notifications_user_type_created", "user_id", "type", "created_at"),
        sa.Index("idx_notifications_type_created", "type", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text())
    is_read: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

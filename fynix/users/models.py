"""The User model."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fynix.common.clock import utcnow
from fynix.common.types import UTCDateTime
from fynix.extensions import db


def new_security_stamp() -> str:
    """16 random hex characters."""
    return secrets.token_hex(8)


class User(db.Model):
    """An account: identified by email or username, authenticated by password."""

    __tablename__ = "users"
    __table_args__ = (
        # Uniqueness of email and username is carried by these lookup indexes
        # (a unique index is the lookup index); see migrations 0002.
        sa.Index(
            "idx_users_email",
            "email",
            unique=True,
            sqlite_where=sa.text("email IS NOT NULL"),
            postgresql_where=sa.text("email IS NOT NULL"),
        ),
        sa.Index("idx_users_username", "username", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    username: Mapped[str] = mapped_column(sa.String(32))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    # Random per account and carried by its tokens: an id reused after a restore or reseed
    # is a different account to tokens and to the cache. Deferred: only the token check
    # reads it, so pages that load users keep working while a migration is pending.
    security_stamp: Mapped[str] = mapped_column(
        sa.String(16), default=new_security_stamp, deferred=True
    )
    is_admin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username}>"

"""The AIInteraction model: one prompt and its answer, in a thread of a session."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fynix.common.clock import utcnow
from fynix.common.types import UTCDateTime
from fynix.extensions import db


class AIInteraction(db.Model):
    """One exchange with the assistant; a thread is the interactions sharing thread_id."""

    __tablename__ = "ai_interactions"
    __table_args__ = (
        sa.Index("idx_ai_interactions_user_session", "user_id", "session_id"),
        sa.Index("idx_ai_interactions_thread_created", "thread_id", "created_at"),
        sa.Index("idx_ai_interactions_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(sa.String(64))
    thread_id: Mapped[str] = mapped_column(sa.String(64))
    prompt: Mapped[str] = mapped_column(sa.Text())
    response: Mapped[str] = mapped_column(sa.Text())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

"""The Position model: what a user holds of one symbol."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fynix.common.clock import utcnow
from fynix.common.types import UTCDateTime
from fynix.extensions import db

QUANTITY = sa.Numeric(24, 8)
MONEY = sa.Numeric(20, 6)


class Position(db.Model):
    """One holding; a user has at most one position per symbol."""

    __tablename__ = "portfolio_positions"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("average_cost >= 0", name="average_cost_not_negative"),
        sa.Index("idx_portfolio_positions_user_symbol", "user_id", "symbol", unique=True),
        sa.Index("idx_portfolio_positions_symbol", "symbol"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    symbol: Mapped[str] = mapped_column(sa.String(16))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    average_cost: Mapped[Decimal] = mapped_column(MONEY)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

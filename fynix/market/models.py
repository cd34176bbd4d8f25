"""The Quote model: the last known price of a symbol."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fynix.common.clock import utcnow
from fynix.common.types import UTCDateTime
from fynix.extensions import db


class Quote(db.Model):
    """Last price of one symbol, in one currency."""

    __tablename__ = "market_quotes"
    __table_args__ = (sa.CheckConstraint("price >= 0", name="price_not_negative"),)

    symbol: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    price: Mapped[Decimal] = mapped_column(sa.Numeric(20, 6))
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD", server_default="USD")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

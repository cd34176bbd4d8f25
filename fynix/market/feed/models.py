"""FeedStatus: what each quote feed has done, in the database so every web worker can read it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fynix.common.types import UTCDateTime
from fynix.extensions import db


class FeedStatus(db.Model):
    """One row per feed name, updated in the same transaction as each of its batches."""

    __tablename__ = "market_feed_status"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    batches_total: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    quotes_total: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    skipped_total: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    last_batch_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_lag_seconds: Mapped[float | None] = mapped_column(sa.Float)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

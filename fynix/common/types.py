"""Column types shared by the models."""

from datetime import datetime

from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy.engine import Dialect

from fynix.common.clock import as_utc


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored as UTC on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store aware datetimes converted to UTC."""
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Hand back aware UTC datetimes whatever the driver returned."""
        return as_utc(value)

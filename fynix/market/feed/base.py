"""What every quote provider hands the feed: batches of raw quote rows, and its interface."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class QuoteRow:
    """One quote as the source gave it; validated like the API's input when it is written."""

    symbol: Any
    price: Any
    currency: Any = None
    where: str = ""  # names the row in logs: "line 12", "item 3"

    def as_input(self) -> dict:
        """The row as ``QuoteRowSchema`` loads it (a missing currency means USD)."""
        values = {"symbol": self.symbol, "price": self.price, "currency": self.currency}
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class Batch:
    """Quotes that belong together: written in one transaction, announced once."""

    rows: list[QuoteRow]
    source_time: datetime  # when the source says these prices held: lag = now - source_time
    rejected: tuple[str, ...] = ()  # rows the provider could not read, each with its reason


class Provider(Protocol):
    """A source of quote batches."""

    def next_batch(self) -> Batch | None:
        """The next batch (waiting for it if the source paces itself); None once it ended."""


class SourceError(Exception):
    """The source could not be read this time (server error, bad payload): the feed goes on."""

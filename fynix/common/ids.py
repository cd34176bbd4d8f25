"""Row ids: every id column is a 32-bit INTEGER, so larger ids cannot exist (and SQLite
would refuse to bind them). One bound, one bounded lookup."""

from __future__ import annotations

from typing import Any, TypeVar

from fynix.extensions import db

MAX_ID = 2**31 - 1
Model = TypeVar("Model")


def is_id(value: Any) -> bool:
    """Whether ``value`` can be the id of a row."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def get_by_id(model: type[Model], value: Any, **options: Any) -> Model | None:
    """The row of ``model`` with id ``value``, or None (no query for an impossible id)."""
    return db.session.get(model, value, **options) if is_id(value) else None

"""The API's pagination (docs/api.md): ?page=&per_page= in, {items, page, per_page, total} out."""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select

from fynix.extensions import db

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20


class PaginationArgsSchema(Schema):
    """Query arguments of every list endpoint; per_page outside 1-100 is a 422."""

    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=1_000_000),
        metadata={"description": "Page number, from 1"},
    )
    per_page = fields.Integer(
        load_default=DEFAULT_PER_PAGE,
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": f"Items per page, 1-{MAX_PER_PAGE} (default {DEFAULT_PER_PAGE})"},
    )


@dataclass(frozen=True)
class Page:
    """One page of results, in the shape the page schemas dump."""

    items: list
    page: int
    per_page: int
    total: int


def page_window(statement: Select, page: int, per_page: int) -> Select:
    """The rows of one page of ``statement``: the query a list endpoint runs for its items."""
    return statement.limit(per_page).offset((page - 1) * per_page)


def paginate(statement: Select, page: int, per_page: int, *, scalars: bool = True) -> Page:
    """Run ``statement`` for one page (ORM objects, or rows when ``scalars=False``)."""
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    result = db.session.execute(page_window(statement, page, per_page))
    items = list(result.scalars() if scalars else result.all())
    return Page(items=items, page=page, per_page=per_page, total=total or 0)


_PAGE_SCHEMAS: dict[type, type[Schema]] = {}


def page_schema(item_schema: type[Schema]) -> type[Schema]:
    """Return (once per item schema) the ``{items, page, per_page, total}`` schema."""
    if item_schema not in _PAGE_SCHEMAS:
        name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
        _PAGE_SCHEMAS[item_schema] = type(
            name,
            (Schema,),
            {
                "items": fields.List(fields.Nested(item_schema), required=True),
                "page": fields.Integer(required=True),
                "per_page": fields.Integer(required=True),
                "total": fields.Integer(required=True),
            },
        )
    return _PAGE_SCHEMAS[item_schema]

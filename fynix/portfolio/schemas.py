"""Schemas of positions (input and output) and of the portfolio summary."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from fynix.common.dumping import DirectDumpSchema
from fynix.common.fields import ExactDecimal, Symbol, UTCDateTimeField, money_field, quantity_field
from fynix.common.pagination import PaginationArgsSchema


def _amount(**kwargs: Any) -> ExactDecimal:
    """A computed, possibly negative amount rounded to cents (output only)."""
    return ExactDecimal(places=2, max_digits=60, **kwargs)


class PositionSchema(Schema):
    """A position as the API shows it."""

    id = fields.Integer(required=True)
    symbol = fields.String(required=True, metadata={"example": "AAPL"})
    quantity = quantity_field(required=True)
    average_cost = money_field(required=True)
    created_at = UTCDateTimeField(required=True)
    updated_at = UTCDateTimeField(required=True)


class PositionCreateSchema(Schema):
    """Body of POST /api/portfolio/positions."""

    symbol = Symbol(required=True)
    quantity = quantity_field(required=True)
    average_cost = money_field(required=True)


class PositionUpdateSchema(Schema):
    """Body of PATCH /api/portfolio/positions/<id>: quantity and/or average_cost."""

    quantity = quantity_field()
    average_cost = money_field()

    @validates_schema
    def require_something(self, data: dict, **kwargs: Any) -> None:
        """An empty patch is a client mistake."""
        if not data:
            raise ValidationError("Give quantity and/or average_cost.", "_schema")


class PositionListArgsSchema(PaginationArgsSchema):
    """Query arguments of GET /api/portfolio/positions."""

    symbol = Symbol(metadata={"description": "Only the position in this symbol"})


class HoldingSchema(Schema):
    """One line of the summary: a position valued at its quote (or at cost)."""

    symbol = fields.String(required=True)
    quantity = quantity_field(required=True)
    average_cost = money_field(required=True)
    price = money_field(required=True)
    price_source = fields.String(
        required=True,
        validate=validate.OneOf(["quote", "cost"]),
        metadata={"description": '"cost" when the symbol has no quote'},
    )
    currency = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Currency of the quote; null when valued at cost"},
    )
    market_value = _amount(required=True)
    cost = _amount(required=True)
    unrealized_pnl = _amount(required=True)
    weight = ExactDecimal(
        places=4,
        max_digits=5,
        required=True,
        allow_none=True,
        metadata={
            "description": "Share of the total market value; null when it is 0",
            "example": "0.9499",
        },
    )


class SummarySchema(DirectDumpSchema):
    """GET /api/portfolio/summary: totals are exact sums of the rounded holdings.

    Dumped straight through its fields (``fynix.common.dumping``): every cache miss and
    every uncached request renders one, and marshmallow's own path was most of a render.
    """

    positions_count = fields.Integer(required=True)
    total_cost = _amount(required=True)
    market_value = _amount(required=True)
    unrealized_pnl = _amount(required=True)
    unrealized_pnl_pct = _amount(
        required=True,
        allow_none=True,
        metadata={"description": "Percent of total cost; null when the total cost is 0"},
    )
    holdings = fields.List(fields.Nested(HoldingSchema), required=True)
    as_of = UTCDateTimeField(required=True)

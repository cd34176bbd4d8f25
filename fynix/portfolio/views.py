"""/api/portfolio endpoints: the caller's positions and their valuation."""

from __future__ import annotations

from flask.views import MethodView

from fynix.auth.guard import current_user_id, login_required
from fynix.caching.derived import UnitSource, derived_cache
from fynix.caching.presets import cache_portfolio_data
from fynix.common.api import Blueprint, ErrorSchema
from fynix.common.pagination import Page, page_schema
from fynix.portfolio import services
from fynix.portfolio.models import Position
from fynix.portfolio.schemas import (
    PositionCreateSchema,
    PositionListArgsSchema,
    PositionSchema,
    PositionUpdateSchema,
    SummarySchema,
)
from fynix.portfolio.valuation import decode_holdings, encode_holdings

blp = Blueprint("portfolio", __name__, url_prefix="/api/portfolio", description="Portfolio")

# The per-user part of a summary, cached apart from the shared price book.
HOLDINGS = UnitSource("holdings", services.load_holdings, encode_holdings, decode_holdings)


@blp.route("/positions")
class Positions(MethodView):
    """The caller's positions."""

    @login_required
    @cache_portfolio_data(query=PositionListArgsSchema)
    @blp.arguments(PositionListArgsSchema, location="query")
    @blp.response(200, page_schema(PositionSchema))
    def get(self, args: dict) -> Page:
        """List my positions, ordered by symbol (?symbol= filters)."""
        return services.list_positions(
            current_user_id(), args["page"], args["per_page"], symbol=args.get("symbol")
        )

    @login_required
    @blp.arguments(PositionCreateSchema)
    @blp.response(201, PositionSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="A position in this symbol exists")
    def post(self, data: dict) -> Position:
        """Open a position; one per symbol."""
        return services.create_position(current_user_id(), data)


@blp.route("/positions/<int:position_id>")
class PositionItem(MethodView):
    """One of the caller's positions (someone else's is 404)."""

    @login_required
    @cache_portfolio_data()
    @blp.response(200, PositionSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Unknown, or someone else's")
    def get(self, position_id: int) -> Position:
        """Show one of my positions."""
        return services.get_position(current_user_id(), position_id)

    @login_required
    @blp.arguments(PositionUpdateSchema)
    @blp.response(200, PositionSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Unknown, or someone else's")
    def patch(self, changes: dict, position_id: int) -> Position:
        """Change the quantity and/or average cost of one of my positions."""
        return services.update_position(current_user_id(), position_id, changes)

    @login_required
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="Unknown, or someone else's")
    def delete(self, position_id: int) -> None:
        """Close one of my positions."""
        services.delete_position(current_user_id(), position_id)


@blp.route("/summary")
class Summary(MethodView):
    """The caller's portfolio valued at the last quotes."""

    @login_required
    @derived_cache(
        "portfolio", shared="prices", unit=HOLDINGS, render=services.render_summary,
        schema=SummarySchema,
    )  # fmt: skip
    @blp.response(200, SummarySchema)
    def get(self) -> dict:
        """Totals and per-symbol holdings; symbols without a quote are valued at cost."""
        return services.get_summary(current_user_id())

"""/api/market quote endpoints and the public /api/public/market-overview."""

from __future__ import annotations

from flask.views import MethodView

from fynix.auth.guard import admin_required, login_required
from fynix.caching.derived import derived_cache
from fynix.common.api import Blueprint, ErrorSchema
from fynix.common.fields import SYMBOL_INPUT_PATTERN
from fynix.market import services
from fynix.market.models import Quote
from fynix.market.prices import QuotePrice, load_price_book
from fynix.market.schemas import (
    MarketOverviewSchema,
    QuoteBatchSchema,
    QuoteListArgsSchema,
    QuoteSchema,
    QuoteWriteSchema,
)

blp = Blueprint("market", __name__, url_prefix="/api", description="Market quotes")
SYMBOL_PARAMETER = {
    "in": "path",
    "name": "symbol",
    "description": "Ticker symbol in any case (stored upper-case)",
    "schema": {"type": "string", "pattern": SYMBOL_INPUT_PATTERN, "example": "AAPL"},
}


@blp.route("/market/quotes")
class Quotes(MethodView):
    """Several quotes at once."""

    @login_required
    @derived_cache(
        "market", shared="prices", render=services.quotes_from_book, schema=QuoteBatchSchema,
        query=QuoteListArgsSchema,
    )  # fmt: skip
    @blp.arguments(QuoteListArgsSchema, location="query")
    @blp.response(200, QuoteBatchSchema)
    def get(self, args: dict) -> dict:
        """Quotes of ?symbols=A,B in that order; unknown symbols are listed as missing."""
        return services.quotes_from_book(load_price_book(), args["symbols"])


@blp.route("/market/quotes/<symbol>", parameters=[SYMBOL_PARAMETER])
class QuoteItem(MethodView):
    """The last price of one symbol (any case; stored upper-case)."""

    @login_required
    @derived_cache("market", shared="prices", render=services.quote_from_book, schema=QuoteSchema)
    @blp.response(200, QuoteSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Unknown or invalid symbol")
    def get(self, symbol: str) -> QuotePrice:
        """Show the quote of a symbol; an unknown or malformed symbol is 404."""
        return services.quote_from_book(load_price_book(), symbol)

    @admin_required
    @blp.arguments(QuoteWriteSchema)
    @blp.response(200, QuoteSchema, description="Quote updated")
    @blp.alt_response(201, schema=QuoteSchema, description="Quote created", success=True)
    def put(self, data: dict, symbol: str) -> tuple[Quote, int]:
        """Create (201) or replace (200) a quote; a malformed symbol is 422. Admin only."""
        quote, created = services.put_quote(symbol, data)
        return quote, 201 if created else 200


@blp.route("/public/market-overview")
class MarketOverview(MethodView):
    """Every symbol with its last price: the same public answer for everyone."""

    @blp.doc(security=[])
    @derived_cache(
        "public", shared="prices", render=services.overview_from_book, schema=MarketOverviewSchema
    )
    @blp.response(200, MarketOverviewSchema)
    def get(self) -> dict:
        """List every symbol with its last price, ordered by symbol."""
        return services.overview_from_book(load_price_book())

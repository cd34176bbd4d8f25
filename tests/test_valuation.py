"""Valuation is exact (against a Fraction reference) and the summary's direct dump is
marshmallow's dump, byte for byte once through the app's JSON provider."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields, post_dump

from fynix.common.dumping import DirectDumpSchema, direct_dumper
from fynix.market.prices import PriceBook, QuotePrice, load_price_book
from fynix.portfolio.schemas import SummarySchema
from fynix.portfolio.services import get_summary, load_holdings
from fynix.portfolio.valuation import Holding, value_portfolio
from tests.factories import create_position, put_quote

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
AS_OF = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SYMBOLS = [f"S{index}" for index in range(60)]


def decimals(whole: int, places: int, minimum: int = 0) -> st.SearchStrategy[Decimal]:
    """Decimals with at most ``whole`` digits before the point and ``places`` after."""
    top = 10 ** (whole + places) - 1
    return st.integers(minimum, top).map(lambda n: Decimal(n).scaleb(-places))


# The columns' limits: quantity NUMERIC(24, 8) > 0, prices and costs NUMERIC(20, 6) >= 0.
# Few places come often too, so products land exactly on half a cent and zeros are hit.
quantities = st.one_of(decimals(16, 8, minimum=1), decimals(1, 8, minimum=1),
                       decimals(3, 1, minimum=1))  # fmt: skip
prices = st.one_of(decimals(14, 6), decimals(1, 6), decimals(2, 3))
holdings = st.lists(
    st.tuples(st.sampled_from(SYMBOLS), quantities, prices, st.one_of(st.none(), prices)),
    max_size=50,
    unique_by=lambda row: row[0],
)


def portfolio(rows: list[tuple]) -> tuple[list[Holding], PriceBook]:
    """Holdings ordered by symbol and a book with the quotes the rows give (None: no quote)."""
    rows = sorted(rows)
    quotes = {s: QuotePrice(s, p, "USD", AS_OF) for s, _, _, p in rows if p is not None}
    return [Holding(s, q, c) for s, q, c, _ in rows], PriceBook(quotes, AS_OF)


def half_even(value: Fraction, unit: Fraction) -> Fraction:
    """``value`` rounded half-to-even to a multiple of ``unit``."""
    steps, rest = divmod(value / unit, 1)
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and steps % 2):
        steps += 1
    return steps * unit


def reference(rows: list[tuple]) -> dict:
    """The summary's figures in exact rational arithmetic, rounded once each."""
    cent, lines = Fraction(1, 100), []
    for symbol, quantity, cost, price in sorted(rows):
        q, c = Fraction(quantity), Fraction(cost)
        p = Fraction(price) if price is not None else c
        lines.append({"symbol": symbol, "cost": half_even(q * c, cent),
                      "market_value": half_even(q * p, cent)})  # fmt: skip
    total_cost = sum((line["cost"] for line in lines), Fraction(0))
    market = sum((line["market_value"] for line in lines), Fraction(0))
    for line in lines:
        line["unrealized_pnl"] = line["market_value"] - line["cost"]
        share = line["market_value"] / market if market else None
        line["weight"] = half_even(share, Fraction(1, 10_000)) if market else None
    pnl = market - total_cost
    pct = half_even(pnl * 100 / total_cost, cent) if total_cost else None
    return {"total_cost": total_cost, "market_value": market, "unrealized_pnl": pnl,
            "unrealized_pnl_pct": pct, "holdings": lines}  # fmt: skip


def exact(value: Decimal | None) -> Fraction | None:
    return None if value is None else Fraction(value)


@SETTINGS
@given(rows=holdings)
def test_value_portfolio_matches_the_fraction_reference(rows):
    summary = value_portfolio(*portfolio(rows), AS_OF)
    expected = reference(rows)
    for key in ("total_cost", "market_value", "unrealized_pnl", "unrealized_pnl_pct"):
        assert exact(summary[key]) == expected[key], key
    assert summary["positions_count"] == len(rows)
    for line, wanted in zip(summary["holdings"], expected["holdings"], strict=True):
        assert line["symbol"] == wanted["symbol"]
        for key in ("cost", "market_value", "unrealized_pnl", "weight"):
            assert exact(line[key]) == wanted[key], (line["symbol"], key)


@SETTINGS
@given(rows=holdings)
def test_summary_json_is_marshmallows_dump_byte_for_byte(app, rows):
    summary = value_portfolio(*portfolio(rows), AS_OF)
    schema = SummarySchema()
    with app.app_context():
        direct = app.json.response(schema.dump(summary)).get_data()
        by_fields = app.json.response(Schema.dump(schema, summary)).get_data()
    assert direct == by_fields


def test_direct_dump_leaves_what_it_does_not_handle_to_marshmallow():
    class Hooked(DirectDumpSchema):
        amount = fields.Decimal(as_string=True)

        @post_dump
        def tag(self, data: dict, **kwargs: object) -> dict:
            return {**data, "tagged": True}

    class Dotted(DirectDumpSchema):
        amount = fields.Decimal(as_string=True, attribute="money.amount")

    assert direct_dumper(Hooked()) is None  # pins marshmallow's private _hooks
    assert Hooked().dump({"amount": Decimal("1.50")}) == {"amount": "1.50", "tagged": True}
    assert Dotted().dump({"money": {"amount": Decimal(2)}}) == {"amount": "2"}
    summary = value_portfolio(*portfolio([("A", Decimal(1), Decimal(2), None)]), AS_OF)
    del summary["as_of"]  # marshmallow leaves a missing key out, and so does the schema
    assert "as_of" not in SummarySchema().dump(summary)
    assert set(SummarySchema(only=("market_value",)).dump(summary)) == {"market_value"}


def test_uncached_summary_reads_only_the_held_symbols_quotes(app, client, auth):
    _, admin = auth.new_user(admin=True)
    user, headers = auth.new_user()
    user_id = user["id"]
    for symbol, price in (("HELD", "12.50"), ("OTHER", "7")):
        put_quote(client, admin, symbol, price)
    create_position(client, headers, "HELD", "2", "150.25")
    create_position(client, headers, "NOQUOTE", "1", "150.25")
    with app.app_context():
        assert set(load_price_book(["HELD", "NOQUOTE"]).quotes) == {"HELD"}
        summary = get_summary(user_id)
        whole = value_portfolio(load_holdings(user_id), load_price_book(), summary["as_of"])
    assert summary == whole
    assert [line["price"] for line in summary["holdings"]] == [Decimal("12.50"), Decimal("150.25")]

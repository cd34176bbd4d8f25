"""The patterns the document gives for decimals and symbols accept exactly what the server
accepts: a property test over generated strings, each sent to the server."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import AuthActions

DIGITS = st.text(alphabet="0123456789", min_size=0, max_size=20)
DECIMALS = st.one_of(
    st.builds(lambda a, b, c: f"{a}.{b}{c}", DIGITS, DIGITS, st.sampled_from(["", "0000"])),
    DIGITS,
    st.builds(lambda sign, text: sign + text, st.sampled_from(["-", "+", " "]), DIGITS),
    st.text(alphabet="0123456789.-e+ \u0661", max_size=12),  # U+0661: Arabic-Indic 1
)
SYMBOLS = st.text(alphabet="AaZz09.-_ \tß", min_size=0, max_size=18)


class Session:
    """One user and the document, made once per test (not once per generated example)."""

    def __init__(self, app) -> None:
        self.client = app.test_client()
        spec = self.client.get("/api/openapi.json").get_json()
        self.fields = spec["components"]["schemas"]["PositionCreate"]["properties"]
        self.headers = AuthActions(self.client).new_user()[1]

    def accepted(self, body: dict) -> bool:
        """Open the position (then close it again): True on 201, False on 422."""
        response = self.client.post("/api/portfolio/positions", json=body, headers=self.headers)
        assert response.status_code in {201, 422}, response.get_json()
        if response.status_code == 201:
            url = f"/api/portfolio/positions/{response.get_json()['id']}"
            assert self.client.delete(url, headers=self.headers).status_code == 204
        return response.status_code == 201

    def documented(self, body: dict) -> bool:
        """Whether every value matches its documented pattern."""
        return all(re.fullmatch(self.fields[name]["pattern"], body[name]) for name in body)


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


def test_position_decimals_are_accepted_exactly_when_documented(app):
    session = Session(app)

    @SETTINGS
    @given(quantity=DECIMALS, cost=DECIMALS)
    def check(quantity: str, cost: str) -> None:
        body = {"symbol": "AAPL", "quantity": quantity, "average_cost": cost}
        assert session.accepted(body) == session.documented(body), body

    check()


def test_symbols_are_accepted_exactly_when_documented(app):
    session = Session(app)

    @SETTINGS
    @given(symbol=SYMBOLS)
    def check(symbol: str) -> None:
        body = {"symbol": symbol, "quantity": "1", "average_cost": "1"}
        assert session.accepted(body) == session.documented(body), body

    check()

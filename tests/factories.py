"""Test data built through the API as a client builds it: one spelling per resource.

Each factory asserts the write succeeded and returns its JSON, so a test's arrange step
cannot fail silently. Tests that examine a write's own answer (status, errors) send the
request themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

POSITIONS = "/api/portfolio/positions"
QUOTES = "/api/market/quotes"
NOTIFICATIONS = "/api/notifications"
ASK = "/api/ai/interactions"


def create_position(
    client, headers: dict, symbol: str = "AAPL", quantity: str = "10", average_cost: str = "100"
) -> dict:
    """Open a position for the caller of ``headers``; returns the created position."""
    body = {"symbol": symbol, "quantity": quantity, "average_cost": average_cost}
    response = client.post(POSITIONS, json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def put_quote(client, admin_headers: dict, symbol: str, price: str, currency: str | None = None):
    """Create or update a quote as an administrator; returns the stored quote."""
    body = {"price": price} | ({"currency": currency} if currency else {})
    response = client.put(f"{QUOTES}/{symbol}", json=body, headers=admin_headers)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def send_notification(client, admin_headers: dict, user_id: int, **fields) -> dict:
    """Deliver a notification through the admin endpoint; returns it."""
    body = {"user_id": user_id, "type": "info", "title": "Hello", "body": "Text"} | fields
    response = client.post(NOTIFICATIONS, json=body, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def ask(client, headers: dict, prompt: str = "What is my largest holding?", **fields) -> dict:
    """Ask the assistant; returns the created interaction (with its thread id)."""
    response = client.post(ASK, json={"prompt": prompt, **fields}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@dataclass
class Holder:
    """A user holding 10 AAPL bought at 50, AAPL quoted at 100 by an admin."""

    user: dict
    headers: dict
    admin_headers: dict
    position: dict


def aapl_holder(auth) -> Holder:
    """The common arrange step of the freshness tests: an admin quotes AAPL at 100 and a new
    user opens a position of 10 AAPL at 50."""
    _, admin_headers = auth.new_user(admin=True)
    user, headers = auth.new_user()
    put_quote(auth.client, admin_headers, "AAPL", "100")
    position = create_position(auth.client, headers, "AAPL", "10", "50")
    return Holder(user, headers, admin_headers, position)

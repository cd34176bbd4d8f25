"""HTTP caching as a real browser applies it: after its own writes, a page's fetch() of a
cached endpoint shows the write (the browser may keep answers but must revalidate them)."""

from __future__ import annotations

import pytest

from tests.conftest import AuthActions

pytestmark = [pytest.mark.browser, pytest.mark.redis]

# Runs in the page: read, read again (the browser's cache is warm), write, read.
WRITE_THEN_READ = """
async ({token, read, write, body}) => {
  const auth = {Authorization: `Bearer ${token}`};
  const get = async () => (await fetch(read, {headers: auth})).json();
  const before = await get();
  await get();
  const written = await fetch(write.path, {
    method: write.method,
    headers: {...auth, "Content-Type": "application/json"},
    body: body === null ? undefined : JSON.stringify(body),
  });
  return {before, status: written.status, after: await get()};
}
"""


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/api/docs")  # the API's own docs page: same origin
    yield page
    context.close()


@pytest.fixture
def tokens(live_server):
    """AuthActions with the bearer tokens of an admin and of a user."""
    auth = AuthActions(live_server.app.test_client())
    _, admin = auth.new_user(admin=True)
    _, user = auth.new_user()
    return auth, admin["Authorization"][7:], user["Authorization"][7:]


def _run(page, token, read, method, path, body=None):
    return page.evaluate(
        WRITE_THEN_READ,
        {"token": token, "read": read, "write": {"method": method, "path": path}, "body": body},
    )


def test_a_new_position_shows_in_the_next_summary(page, tokens):
    _, _, token = tokens
    body = {"symbol": "AAPL", "quantity": "2", "average_cost": "10"}
    seen = _run(page, token, "/api/portfolio/summary", "POST", "/api/portfolio/positions", body)
    assert seen["status"] == 201
    assert (seen["before"]["positions_count"], seen["after"]["positions_count"]) == (0, 1)


def test_read_all_shows_in_the_next_unread_count(page, tokens):
    auth, admin, token = tokens
    me = auth.client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    sent = auth.client.post(
        "/api/notifications",
        json={"user_id": me.get_json()["id"], "type": "system", "title": "Hi", "body": "Hello"},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert sent.status_code == 201
    seen = _run(
        page, token, "/api/notifications/unread-count", "POST", "/api/notifications/read-all"
    )
    assert seen["status"] == 200
    assert (seen["before"]["unread_count"], seen["after"]["unread_count"]) == (1, 0)


def test_a_quote_change_shows_in_the_public_overview(page, tokens):
    _, admin, _ = tokens
    first = _run(page, admin, "/api/public/market-overview", "PUT", "/api/market/quotes/AAPL",
                 {"price": "100"})  # fmt: skip
    second = _run(page, admin, "/api/public/market-overview", "PUT", "/api/market/quotes/AAPL",
                  {"price": "120"})  # fmt: skip
    assert [item["price"] for item in first["after"]["items"]] == ["100.00"]
    assert [item["price"] for item in second["before"]["items"]] == ["100.00"]
    assert [item["price"] for item in second["after"]["items"]] == ["120.00"]

"""Edge-case input in every documented field of every operation, and in the admin forms.

Driven by /api/openapi.json through tests/api_calls.py: a field or parameter added to the
document is covered here without a change. CI runs it on PostgreSQL (where a NUL in a
string was a 500) and on SQLite. NUL and lone surrogates are refused with a 4xx naming the
field; long, right-to-left, combining and emoji text is accepted or refused by the field's
own rules, but never answered with a 5xx or with HTML.
"""

from __future__ import annotations

import pytest

from tests.admin_pages import AdminPages
from tests.api_calls import BASELINES, Call, Operation, operations, send

NUL = "ab\x00cd"
SURROGATE = "ab\ud800cd"
# What a URL can carry in place of a lone surrogate: its (invalid) UTF-8 bytes.
URL_FORMS = {NUL: "ab%00cd", SURROGATE: "ab%ED%A0%80cd"}
ODD_TEXT = {
    "long": "x" * 100_000,
    "long-url": "y" * 5_000,
    "long-number-url": "9" * 5_000,  # over Python's 4300-digit int conversion limit
    "right-to-left": "\u202eabc\u202c مرحبا",
    "combining": "e\u0301" * 40 + "\u0338",
    "emoji": "💰📈👩‍👩‍👧",
}


def with_value(op: Operation, call: Call, location: str, name: str, value: str) -> dict:
    """Put ``value`` at (location, name) of ``call``; returns the raw URL parts, if any."""
    if location == "body":
        call.body = {**(call.body or {}), name: value}
        return {}
    call.query.pop(name, None)
    return {name: URL_FORMS.get(value) or value}


def is_json_or_empty(response) -> bool:
    return response.status_code == 204 or response.mimetype == "application/json"


def test_every_operation_has_a_baseline(openapi):
    documented = {(op.method, op.path) for op in operations(openapi)}
    assert documented == set(BASELINES), "add a known-good call to tests/api_calls.py"


def test_every_baseline_succeeds(client, openapi, world):
    for op in operations(openapi):
        response = send(client, op, BASELINES[(op.method, op.path)](world))
        assert 200 <= response.status_code < 300, (op.method, op.path, response.get_json())


@pytest.mark.parametrize("value", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])
def test_unstorable_text_is_refused_naming_the_field(client, openapi, world, value):
    failures = []
    for op in operations(openapi):
        for location, name in op.inputs:
            call = BASELINES[(op.method, op.path)](world)
            response = send(client, op, call, with_value(op, call, location, name, value))
            body = response.get_json(silent=True) or {}
            if location == "path":
                ok = response.status_code in {404, 422} and "message" in body
            elif location == "query" and value == SURROGATE:
                ok = response.status_code < 500 and is_json_or_empty(response)
            else:
                ok = response.status_code == 422 and name in body.get("errors", {})
            if not ok:
                failures.append(f"{op.method} {op.path} {location}:{name} -> {response.status}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("kind", sorted(ODD_TEXT))
def test_odd_text_is_never_a_server_error_or_html(client, openapi, world, kind):
    failures = []
    for op in operations(openapi):
        for location, name in op.inputs:
            if (location == "body") == kind.endswith("-url"):
                continue  # 100 kB belongs in a body, 5 kB in a URL
            call = BASELINES[(op.method, op.path)](world)
            raw = with_value(op, call, location, name, ODD_TEXT[kind])
            raw = {key: _url_encoded(value) for key, value in raw.items()}
            response = send(client, op, call, raw)
            if response.status_code >= 500 or not is_json_or_empty(response):
                failures.append(f"{op.method} {op.path} {location}:{name} -> {response.status}")
    assert not failures, "\n".join(failures)


def _url_encoded(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def test_a_bad_key_is_named_escaped(client, world):
    response = client.post(
        "/api/ai/interactions",
        json={"prompt": "Hi", "ke\x00y": "v", "ok": "a\ud800"},
        headers=world.user_headers,
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"ke\\x00y", "ok"}


# --- admin forms and query strings ------------------------------------------------------

ADMIN_FORMS = [
    ("/admin/login", {"login": NUL, "password": "x"}, "login"),
    ("/admin/login", {"login": "someone", "password": NUL}, "password"),
    ("/admin/cache/pattern", {"pattern": NUL}, "pattern"),
    ("/admin/cache/warm", {"users": NUL}, "users"),
    ("/admin/users/{user_id}/notify", {"type": "system", "title": NUL, "body": "b"}, "title"),
    ("/admin/users/{user_id}/notify", {"type": "system", "title": "t", "body": NUL}, "body"),
    ("/admin/users/{user_id}/notify", {"type": NUL, "title": "t", "body": "b"}, "type"),
]


@pytest.mark.parametrize(("path", "form", "field"), ADMIN_FORMS)
def test_admin_forms_refuse_nul_with_the_form_shown_again(app, client, auth, path, form, field):
    pages = AdminPages(client)
    admin, _ = auth.new_user(admin=True)
    if path != "/admin/login":
        assert pages.login(admin["username"]).status_code == 302
    url = path.format(user_id=admin["id"])
    response = pages.post(url, form)
    html = response.get_data(as_text=True)
    assert response.status_code in {302, 400}, html[:300]
    if response.status_code == 302:  # the action pages answer on the page they return to
        html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "NUL" in html, (field, html[:1000])


@pytest.mark.parametrize("query", ["q=%00", "q=a%00b&page=1", "page=%00"])
def test_admin_user_search_refuses_nul(client, auth, query):
    admin, _ = auth.new_user(admin=True)
    assert AdminPages(client).login(admin["username"]).status_code == 302
    response = client.get(f"/admin/users?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "NUL" in html or "Not a valid integer" in html
    assert admin["username"] in html  # the page still lists users


# --- symbols: ASCII before upper-casing ---------------------------------------------------

# str.upper() turns each of these into ASCII letters ("FI", "SS", "S", "I", "K" is already
# one): checked only after upper-casing, they became symbols nobody typed.
NON_ASCII_SYMBOLS = ["\ufb01", "gro\u00df", "\u017fpy", "\u0131bm", "\u212aO", "AAPL\u00a0"]


@pytest.mark.parametrize("symbol", NON_ASCII_SYMBOLS, ids=ascii)
def test_a_symbol_that_is_not_ascii_is_refused_everywhere(client, world, symbol):
    from urllib.parse import quote

    admin, user = world.admin_headers, world.user_headers
    put = client.put(f"/api/market/quotes/{quote(symbol)}", json={"price": "1"}, headers=admin)
    assert put.status_code == 422, put.get_json()
    assert "symbol" in put.get_json()["errors"]
    assert client.get(f"/api/market/quotes/{quote(symbol)}", headers=user).status_code == 404
    body = {"symbol": symbol, "quantity": "1", "average_cost": "1"}
    post = client.post("/api/portfolio/positions", json=body, headers=user)
    assert post.status_code == 422
    assert "symbol" in post.get_json()["errors"]
    for url, field in [
        (f"/api/market/quotes?symbols=AAPL,{quote(symbol)}", "symbols"),
        (f"/api/portfolio/positions?symbol={quote(symbol)}", "symbol"),
    ]:
        response = client.get(url, headers=user)
        assert response.status_code == 422, url
        assert field in response.get_json()["errors"], url
    overview = client.get("/api/public/market-overview").get_json()["items"]
    assert [item["symbol"] for item in overview] == ["AAPL"]  # nothing was created


@pytest.mark.parametrize("symbol", NON_ASCII_SYMBOLS, ids=ascii)
def test_a_quote_load_or_feed_row_with_a_non_ascii_symbol_is_skipped(app, symbol):
    from fynix.market.services import load_quote_rows

    with app.app_context():
        rows = [{"symbol": symbol, "price": "1"}, {"symbol": "ok", "price": "2"}]
        loaded, problems = load_quote_rows(rows)
    assert [row["symbol"] for row in loaded] == ["OK"]
    assert problems == [(0, "symbol: Not a valid symbol.")]


def test_a_lower_case_ascii_symbol_is_still_upper_cased(client, world):
    put = client.put("/api/market/quotes/brk.b", json={"price": "1"}, headers=world.admin_headers)
    assert put.status_code == 201
    assert put.get_json()["symbol"] == "BRK.B"

"""The edges of the HTTP contract, for every documented operation they apply to.

Decimal fields take only plain digit strings, pages hold 1-100 items, a body is JSON and at
most MAX_CONTENT_LENGTH bytes, and every 401 says how to authenticate. Each rule is checked
on every operation the OpenAPI document says it applies to (tests/api_calls.py), so a new
operation or field is covered without a change here.
"""

from __future__ import annotations

import pytest

from tests.api_calls import BASELINES, body_schema, operations, send

LIMIT = 1024 * 1024


def body_operations(spec: dict) -> list:
    return [op for op in operations(spec) if op.has_body]


# --- decimals: strings of ASCII digits, exact, within the column's limits -----------------

NOT_PLAIN_DECIMALS = [
    1.5,
    2,
    "1e2",
    "1E2",
    "+5",
    " 5",
    "5 ",
    "5.",
    ".5",
    "١٢",
    "\uff11\uff12",  # full-width digits
    "5\n",
    "0x10",
    "1_000",
    "NaN",
    "-Infinity",
    "",
    "--5",
    "1.99999999999999999999999999999",
]


def decimal_fields(spec: dict, op) -> list[str]:
    properties = (body_schema(spec, op.spec) or {}).get("properties", {})
    return [name for name, prop in properties.items() if prop.get("format") == "decimal"]


def test_every_decimal_field_refuses_anything_but_a_plain_digit_string(client, openapi, world):
    failures, checked = [], 0
    for op in body_operations(openapi):
        for name in decimal_fields(openapi, op):
            for value in NOT_PLAIN_DECIMALS:
                call = BASELINES[(op.method, op.path)](world)
                call.body = {**call.body, name: value}
                response = send(client, op, call)
                checked += 1
                errors = (response.get_json(silent=True) or {}).get("errors", {})
                if response.status_code != 422 or name not in errors:
                    failures.append(f"{op.method} {op.path} {name}={value!r} -> {response.status}")
    assert checked >= 5 * len(NOT_PLAIN_DECIMALS)  # quantity, average_cost (x2), price
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("quantity", "stored"),
    [
        ("1.99999999", "1.99999999"),
        ("1.500000000000000000000000000000000", "1.50"),
        ("0000000000000000000000000000000012", "12.00"),
        # At most 15 significant digits here: SQLite keeps NUMERIC values as doubles.
        ("1234567.1234567", "1234567.1234567"),
    ],
)
def test_a_plain_decimal_string_is_stored_exactly(client, world, quantity, stored):
    body = {"symbol": "EXACT", "quantity": quantity, "average_cost": "1"}
    response = client.post("/api/portfolio/positions", json=body, headers=world.user_headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["quantity"] == stored
    again = client.get(
        f"/api/portfolio/positions/{response.get_json()['id']}", headers=world.user_headers
    )
    assert again.get_json()["quantity"] == stored


@pytest.mark.parametrize(
    "quantity", ["1.999999999", "1.99999999999999999999999999999", "10000000000000000"]
)
def test_digits_beyond_the_column_are_refused_not_rounded(client, world, quantity):
    body = {"symbol": "EXACT", "quantity": quantity, "average_cost": "1"}
    response = client.post("/api/portfolio/positions", json=body, headers=world.user_headers)
    assert response.status_code == 422
    assert "quantity" in response.get_json()["errors"]
    assert (
        client.get("/api/portfolio/positions", headers=world.user_headers).get_json()["total"] == 0
    )


def test_decimal_fields_document_their_form_and_limits(openapi):
    quantity = openapi["components"]["schemas"]["PositionCreate"]["properties"]["quantity"]
    assert quantity["type"] == "string"
    # Positive, at most 16 digits before the point and 8 after (zeros around them aside).
    assert quantity["pattern"] == (r"^(0*[1-9][0-9]{0,15}(\.[0-9]{1,8}0*)?|0+\.[0-9]{0,7}[1-9]0*)$")
    for words in ("8 decimal places", "16 digits", "> 0"):
        assert words in quantity["description"]
    cost = openapi["components"]["schemas"]["PositionCreate"]["properties"]["average_cost"]
    assert cost["pattern"] == r"^0*[0-9]{1,14}(\.[0-9]{1,6}0*)?$"  # "0" is a valid cost


# --- per_page: 1 to 100 --------------------------------------------------------------------


# Python refuses to convert more than 4300 digits to an int (sys.get_int_max_str_digits).
HUGE_NUMBER = "9" * 5000


OUT_OF_RANGE = [("per_page", value) for value in ["0", "101", "1000", "-1", HUGE_NUMBER]] + [
    ("page", value) for value in ["0", "-1", "1e3", HUGE_NUMBER]
]


@pytest.mark.parametrize(("name", "value"), OUT_OF_RANGE, ids=lambda v: v[:10])
def test_page_and_per_page_out_of_range_are_422_on_every_list(client, openapi, world, name, value):
    lists = [op for op in operations(openapi) if ("query", name) in op.inputs]
    assert len(lists) >= 3
    for op in lists:
        call = BASELINES[(op.method, op.path)](world)
        call.query[name] = value
        response = send(client, op, call)
        assert response.status_code == 422, (op.path, name, value[:10])
        assert name in response.get_json()["errors"]


def test_per_page_is_documented_as_1_to_100(openapi):
    lists = [op for op in operations(openapi) if ("query", "per_page") in op.inputs]
    for op in lists:
        documented = next(p for p in op.spec["parameters"] if p["name"] == "per_page")
        assert (documented["schema"]["minimum"], documented["schema"]["maximum"]) == (1, 100)


# --- request bodies: at most MAX_CONTENT_LENGTH, and JSON ----------------------------------


def test_every_body_over_the_limit_is_413_json(client, openapi, world):
    big = b'{"x": "' + b"a" * LIMIT + b'"}'
    for op in body_operations(openapi):
        call = BASELINES[(op.method, op.path)](world)
        response = send(client, op, call, data=big, content_type="application/json")
        assert response.status_code == 413, (op.method, op.path, response.status)
        assert response.get_json()["status"] == 413
        assert "413" in op.spec["responses"] or 413 in op.spec["responses"]


def chunked(client, body: bytes):
    """POST ``body`` to the login as a server hands on a chunked body: no Content-Length."""
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(
        path="/api/auth/login", method="POST", data=body, content_type="application/json"
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True  # what gunicorn sets for a chunked body
    return client.open(environ)


def test_a_chunked_body_over_the_limit_is_413(client):
    response = chunked(client, b"[" + b"1," * LIMIT + b"1]")
    assert response.status_code == 413
    assert response.get_json()["message"].endswith(f"{LIMIT} bytes.")


def test_a_chunked_body_of_exactly_the_limit_is_read(client):
    body = b'{"login": "' + b"x" * 300 + b'", "password": "y"}'
    response = chunked(client, body.ljust(LIMIT, b" "))
    assert response.status_code == 422  # read and validated: the login is too long
    assert "login" in response.get_json()["errors"]


def test_the_limit_is_a_setting(app_factory):
    app = app_factory(MAX_CONTENT_LENGTH=100)
    body = {"login": "x" * 200, "password": "y"}
    assert app.test_client().post("/api/auth/login", json=body).status_code == 413


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


# JSON the decoder cannot read (or that is deeper than any body of the API): each is 400 like
# a syntax error, not a 500 from Python's int digit limit or its recursion limit.
UNREADABLE_JSON = {
    "syntax": b'{"x": 1',
    "4301-digit number": b'{"x": ' + b"9" * 4301 + b"}",
    "100000 deep": nested(100_000),
    "990 deep": nested(990),
    "900 deep in an object": b'{"x": ' + nested(900) + b"}",
    "33 deep": nested(33),
}


@pytest.mark.parametrize("raw", UNREADABLE_JSON.values(), ids=list(UNREADABLE_JSON))
def test_json_the_api_cannot_read_is_400_on_every_body(client, openapi, world, raw):
    failures = []
    for op in body_operations(openapi):
        call = BASELINES[(op.method, op.path)](world)
        response = send(client, op, call, data=raw, content_type="application/json")
        body = response.get_json(silent=True) or {}
        if response.status_code != 400 or body.get("status") != 400 or not body.get("message"):
            failures.append(f"{op.method} {op.path} -> {response.status}")
    assert not failures, "\n".join(failures)


def test_the_400_says_which_limit_the_json_passed(client, world):
    def message(raw: bytes) -> str:
        response = client.post(
            "/api/portfolio/positions",
            data=raw,
            content_type="application/json",
            headers=world.user_headers,
        )
        assert response.status_code == 400
        return response.get_json()["message"]

    assert message(b'{"x": 1') == "The request body is not valid JSON."
    assert "deeper than 32" in message(nested(33))
    assert "deeper than 32" in message(nested(100_000))
    assert "more than 4300 digits" in message(b"[" + b"1" * 4301 + b"]")


def test_json_at_the_limits_is_read(client, world):
    # An object holding 31 nested arrays is 32 deep; 4300 digits still convert.
    body = b'{"symbol": ' + nested(31) + b', "quantity": ' + b"9" * 4300 + b', "average_cost": "1"}'
    response = client.post(
        "/api/portfolio/positions",
        data=body,
        content_type="application/json",
        headers=world.user_headers,
    )
    assert response.status_code == 422  # read, then refused field by field
    assert set(response.get_json()["errors"]) == {"symbol", "quantity"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_every_body_that_is_not_json_is_415(client, openapi, world, content_type):
    for op in body_operations(openapi):
        call = BASELINES[(op.method, op.path)](world)
        data = __import__("json").dumps(call.body)
        headers = {**call.headers}
        if content_type:
            headers["Content-Type"] = content_type
        response = client.open(op.url(call), method=op.method, data=data, headers=headers)
        assert response.status_code == 415, (op.method, op.path, response.get_json())
        assert "415" in op.spec["responses"] or 415 in op.spec["responses"]


@pytest.mark.parametrize("content_type", ["application/json", "application/vnd.fynix+json"])
def test_json_media_types_are_read(client, world, content_type):
    body = '{"prompt": "What do I hold?"}'
    response = client.post(
        "/api/ai/interactions", data=body, content_type=content_type, headers=world.user_headers
    )
    assert response.status_code == 201


def test_an_empty_body_without_content_type_is_missing_fields(client, world):
    response = client.post("/api/portfolio/positions", headers=world.user_headers)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"symbol", "quantity", "average_cost"}


# --- 401: WWW-Authenticate: Bearer ---------------------------------------------------------


def test_every_401_carries_a_bearer_challenge(client, openapi, world):
    # /metrics is open unless METRICS_TOKEN is set (security [{}, ...]): tests/test_metrics.py
    guarded = [
        op
        for op in operations(openapi)
        if "401" in op.spec["responses"] and {} not in op.spec.get("security", [])
    ]
    assert len(guarded) >= 20
    for op in guarded:
        call = BASELINES[(op.method, op.path)](world)
        if op.path == "/api/auth/login":
            call.body["password"] = "wrong-password"
        for headers, challenge in [({}, "Bearer"), (BAD_TOKEN, 'Bearer error="invalid_token"')]:
            call.headers = headers
            response = send(client, op, call)
            assert response.status_code == 401, (op.method, op.path)
            assert response.headers["WWW-Authenticate"] == challenge, op.path
        documented = op.spec["responses"]["401"]["headers"]["WWW-Authenticate"]
        assert documented == {"$ref": "#/components/headers/WWW_AUTHENTICATE"}


BAD_TOKEN = {"Authorization": "Bearer not-a-token"}


def test_other_errors_carry_no_challenge(client, world):
    response = client.get("/api/portfolio/positions/999999", headers=world.user_headers)
    assert response.status_code == 404
    assert "WWW-Authenticate" not in response.headers


# --- OPTIONS and misspelled paths: an empty answer or JSON, never an HTML page ------------


def test_options_is_204_with_allow_and_no_body_on_every_path(client, openapi, world):
    documented: dict[str, set[str]] = {}
    for op in operations(openapi):
        documented.setdefault(op.path, set()).add(op.method)
    failures = []
    for path, methods in documented.items():
        op = next(op for op in operations(openapi) if op.path == path)
        response = client.options(op.url(BASELINES[(op.method, op.path)](world)))
        allowed = {m.strip() for m in response.headers.get("Allow", "").split(",")}
        if (
            response.status_code != 204
            or response.data != b""
            or "Content-Type" in response.headers
            or not methods | {"OPTIONS"} <= allowed
        ):
            failures.append(f"{path} -> {response.status} {dict(response.headers)}")
    assert not failures, "\n".join(failures)


@pytest.mark.redis
def test_options_is_204_on_a_route_the_fast_path_answers(redis_app):
    client = redis_app.test_client()
    client.get("/api/public/market-overview")
    assert client.get("/api/public/market-overview").headers["X-Cache"] == "HIT"
    response = client.options("/api/public/market-overview")
    assert response.status_code == 204
    assert response.data == b""
    assert "Content-Type" not in response.headers
    assert "GET" in response.headers["Allow"]


MISSPELLED_PATHS = [
    "/api/portfolio//summary",
    "//api/portfolio/summary",
    "/api//market/quotes/AAPL",
    "/cache//stats",
    "/api/portfolio/summary/",
    "/api/portfolio/positions/",
    "/api/notifications/unread-count/",
]


@pytest.mark.parametrize("path", MISSPELLED_PATHS)
def test_a_misspelled_path_is_a_json_404_not_a_redirect(client, world, path):
    response = client.get(path, headers=world.admin_headers)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json()["status"] == 404


def test_no_route_outside_the_admin_pages_ends_with_a_slash(app):
    # Werkzeug answers such a route's URL without the slash with an HTML redirect page.
    slashed = [rule.rule for rule in app.url_map.iter_rules() if rule.rule.endswith("/")]
    assert slashed == ["/admin/"]


# --- one value per query parameter -------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/portfolio/positions?symbol=AAPL&symbol=MSFT",
        "/api/portfolio/positions?per_page=5&per_page=6",
        "/api/notifications?unread=true&unread=false",
        "/api/ai/threads?page=1&page=1",
        "/api/market/quotes?symbols=AAPL&symbols=MSFT",
    ],
)
def test_a_query_parameter_given_twice_is_422_cached_or_not(client, world, url):
    once = url.rsplit("&", 1)[0]
    for _ in range(2):  # a MISS, then a HIT of the single-valued query
        assert client.get(once, headers=world.user_headers).status_code == 200
        response = client.get(url, headers=world.user_headers)
        assert response.status_code == 422, url
        name = url.rsplit("&", 1)[1].split("=")[0]
        assert response.get_json()["errors"][name] == ["Give this parameter once."]

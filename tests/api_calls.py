"""Every documented operation as a known-good call, and the inputs its document names.

Edge-case tests take the inputs to vary from ``/api/openapi.json`` (so a new field or
parameter is covered without touching them) and the rest of each request from
``BASELINES`` (so the varied input is the only thing wrong). An operation without a
baseline fails ``test_every_operation_has_a_baseline`` until one is added here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from tests.conftest import World

PASSWORD = "correct-horse-1"


@dataclass
class Call:
    """One request: path parameters, query, JSON body and who sends it."""

    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """A documented operation and the inputs (location, name) it documents."""

    method: str
    path: str
    inputs: tuple[tuple[str, str], ...]
    has_body: bool
    spec: dict

    def url(self, call: Call, raw: dict[str, str] | None = None) -> str:
        """The URL of ``call``; ``raw`` values are inserted as given (already encoded)."""
        raw = raw or {}
        url = self.path
        for name, value in call.path.items():
            url = url.replace(f"{{{name}}}", raw.get(name) or quote(str(value), safe=""))
        query = {k: v for k, v in call.query.items() if k not in raw}
        parts = [urlencode(query)] if query else []
        parts += [f"{name}={value}" for name, value in raw.items() if name not in call.path]
        return url + ("?" + "&".join(parts) if parts else "")


def _register(w: World) -> Call:
    name = w.unique("edge")
    return Call(body={"email": f"{name}@example.com", "username": name, "password": PASSWORD})


def _user(**kwargs) -> Callable[[World], Call]:
    # A copy per call: tests change the query and body of the Call they get.
    return lambda w: Call(headers=w.user_headers, **copy.deepcopy(kwargs))


def _admin(**kwargs) -> Callable[[World], Call]:
    return lambda w: Call(headers=w.admin_headers, **copy.deepcopy(kwargs))


PAGE = {"page": "1", "per_page": "20"}
POSITION = "/api/portfolio/positions/{position_id}"
NOTIFICATION = "/api/notifications/{notification_id}"

BASELINES: dict[tuple[str, str], Callable[[World], Call]] = {
    ("POST", "/api/auth/register"): _register,
    ("POST", "/api/auth/login"): lambda w: Call(
        body={"login": w.user["username"], "password": PASSWORD}
    ),
    ("POST", "/api/auth/password"): lambda w: Call(
        headers=w.other_user_headers(),
        body={"current_password": PASSWORD, "new_password": "another-horse-2"},
    ),
    ("POST", "/api/auth/logout"): lambda w: Call(headers=w.other_user_headers()),
    ("GET", "/api/users/me"): _user(),
    ("PATCH", "/api/users/me"): lambda w: Call(
        headers=w.user_headers, body={"username": w.unique("renamed")}
    ),
    ("GET", "/api/portfolio/positions"): _user(query={**PAGE, "symbol": "AAPL"}),
    ("POST", "/api/portfolio/positions"): lambda w: Call(
        headers=w.user_headers,
        body={"symbol": w.unique("S"), "quantity": "1.5", "average_cost": "10.25"},
    ),
    ("GET", POSITION): lambda w: Call(
        headers=w.user_headers, path={"position_id": str(w.position_id())}
    ),
    ("PATCH", POSITION): lambda w: Call(
        headers=w.user_headers, path={"position_id": str(w.position_id())}, body={"quantity": "3"}
    ),
    ("DELETE", POSITION): lambda w: Call(
        headers=w.user_headers, path={"position_id": str(w.position_id())}
    ),
    ("GET", "/api/portfolio/summary"): _user(),
    ("GET", "/api/market/quotes"): _user(query={"symbols": "AAPL,MSFT"}),
    ("GET", "/api/market/quotes/{symbol}"): _user(path={"symbol": "AAPL"}),
    ("PUT", "/api/market/quotes/{symbol}"): lambda w: Call(
        headers=w.admin_headers,
        path={"symbol": w.unique("Q")},
        body={"price": "10.50", "currency": "USD"},
    ),
    ("GET", "/api/public/market-overview"): lambda w: Call(),
    ("GET", "/api/notifications"): _user(query={**PAGE, "unread": "true", "type": "system"}),
    ("POST", "/api/notifications"): lambda w: Call(
        headers=w.admin_headers,
        body={"user_id": w.user["id"], "type": "system", "title": "Hello", "body": "Text"},
    ),
    ("GET", "/api/notifications/unread-count"): _user(),
    ("POST", "/api/notifications/read-all"): _user(),
    ("POST", NOTIFICATION + "/read"): lambda w: Call(
        headers=w.user_headers, path={"notification_id": str(w.notification_id())}
    ),
    ("DELETE", NOTIFICATION): lambda w: Call(
        headers=w.user_headers, path={"notification_id": str(w.notification_id())}
    ),
    ("POST", "/api/ai/interactions"): _user(body={"prompt": "What is my largest holding?"}),
    ("GET", "/api/ai/threads"): _user(query=dict(PAGE)),
    ("GET", "/api/ai/threads/{thread_id}"): lambda w: Call(
        headers=w.user_headers, path={"thread_id": w.thread_id()}
    ),
    ("GET", "/cache/stats"): _admin(),
    ("POST", "/cache/clear"): _admin(),
    ("POST", "/cache/warm"): _admin(query={"users": "1"}),
    ("DELETE", "/cache/pattern/{pattern}"): _admin(path={"pattern": "user*"}),
    ("GET", "/cache/health"): _admin(),
    ("GET", "/healthz"): lambda w: Call(),
    ("GET", "/readyz"): lambda w: Call(),
    ("GET", "/metrics"): lambda w: Call(),
}


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def body_schema(spec: dict, operation: dict) -> dict | None:
    """The JSON schema of an operation's request body, references resolved."""
    body = operation.get("requestBody")
    if body is None:
        return None
    return _resolve(spec, body["content"]["application/json"]["schema"])


def operations(spec: dict) -> Iterator[Operation]:
    """Every documented operation with its parameters and string body properties."""
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method == "parameters":
                continue
            parameters = [*shared, *operation.get("parameters", [])]
            inputs = [(p["in"], p["name"]) for p in parameters if p["in"] in {"path", "query"}]
            schema = body_schema(spec, operation)
            for name, prop in (schema or {}).get("properties", {}).items():
                if _resolve(spec, prop).get("type") == "string":
                    inputs.append(("body", name))
            yield Operation(method.upper(), path, tuple(inputs), schema is not None, operation)


def send(client, op: Operation, call: Call, raw: dict[str, str] | None = None, **kwargs):
    """Send ``call`` to ``op`` (``raw``: pre-encoded path or query values)."""
    if "data" not in kwargs:
        kwargs.setdefault("json", call.body)
    return client.open(op.url(call, raw), method=op.method, headers=call.headers, **kwargs)

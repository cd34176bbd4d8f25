"""Finish flask-smorest's document: ids, descriptions, examples, links, probes, servers."""

from __future__ import annotations

import copy
import json
from http import HTTPStatus

from fynix.apidoc.examples import REQUESTS, RESPONSES
from fynix.apidoc.operations import OPERATIONS
from fynix.apidoc.probes import PROBES, SCHEMAS

METHODS = ("get", "put", "post", "delete", "patch")
# PATCH bodies whose schema refuses an empty object (validates_schema): say so.
NON_EMPTY = ("UserUpdate", "PositionUpdate")
ERROR_REF = "#/components/schemas/Error"
CACHED = {
    "getMyProfile", "listPositions", "getPosition", "getPortfolioSummary", "listQuotes",
    "getQuote", "getMarketOverview", "listNotifications", "getUnreadCount", "listThreads",
    "getThread",
}  # fmt: skip
CACHE_HEADERS = {
    "X-Cache": {
        "description": "HIT, MISS, or BYPASS (cache disabled or unreachable)",
        "schema": {"type": "string", "enum": ["HIT", "MISS", "BYPASS"]},
    },
    "ETag": {"description": "Send it back in If-None-Match: 304", "schema": {"type": "string"}},
    "Cache-Control": {
        "description": '"private, no-cache" (per user) or "public, no-cache": revalidate',
        "schema": {"type": "string"},
    },
    "Age": {"description": "Seconds in the cache (HIT only)", "schema": {"type": "integer"}},
}
NOT_MODIFIED = {"description": "If-None-Match matched the ETag: no body", "headers": CACHE_HEADERS}
# A response's links: operationId of the target -> its parameters from this exchange.
LINKS = {
    ("createPosition", "201"): {
        "getPosition": {"position_id": "$response.body#/id"},
        "updatePosition": {"position_id": "$response.body#/id"},
        "deletePosition": {"position_id": "$response.body#/id"},
    },
    ("askAssistant", "201"): {"getThread": {"thread_id": "$response.body#/thread_id"}},
    ("putQuote", "200"): {"getQuote": {"symbol": "$request.path.symbol"}},
    ("putQuote", "201"): {"getQuote": {"symbol": "$request.path.symbol"}},
}
INFO_DESCRIPTION = (
    "Fynix is the backend of a personal-investing app: accounts, portfolio positions valued "
    "at market quotes, notifications and a portfolio assistant. JSON in and out; money and "
    "quantities are decimal strings; errors share one envelope (`Error`). The reference in "
    "words is docs/api.md in the repository."
)


def finish(spec: dict, origin: str | None = None) -> dict:
    """The document clients get: ``spec`` (flask-smorest's) completed; not modified."""
    spec = copy.deepcopy(spec)
    spec["paths"].update(copy.deepcopy(PROBES))
    spec["components"]["schemas"].update(copy.deepcopy(SCHEMAS))
    spec["servers"] = [{"url": origin or "http://127.0.0.1:8000", "description": "This server"}]
    spec["info"]["description"] = INFO_DESCRIPTION
    spec["info"]["contact"] = {"name": "Fynix maintainers"}
    spec.setdefault("tags", []).append(
        {"name": "Operations", "description": "Probes and metrics for operators"}
    )
    schemes = spec["components"]["securitySchemes"]
    schemes["metricsToken"] = {"type": "http", "scheme": "bearer", "description": "METRICS_TOKEN"}
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                _finish_operation(method, path, item[method])
    for name in NON_EMPTY:
        spec["components"]["schemas"][name]["minProperties"] = 1
    _error_examples(spec["components"].get("responses", {}))
    _drop_unused_schemas(spec)
    return spec


def _finish_operation(method: str, path: str, operation: dict) -> None:
    operation_id, description = OPERATIONS[(method, path)]
    operation["operationId"] = operation_id
    operation["description"] = description
    operation["summary"] = operation.get("summary", "").replace("`", "")
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None and operation_id in REQUESTS:
        body["example"] = REQUESTS[operation_id]
    for status, example in RESPONSES.get(operation_id, {}).items():
        operation["responses"][str(status)]["content"]["application/json"]["example"] = example
    _error_examples(operation["responses"])
    if operation_id in CACHED:
        operation["responses"]["200"]["headers"] = CACHE_HEADERS
        operation["responses"]["304"] = NOT_MODIFIED
    for (source, status), targets in LINKS.items():
        if source == operation_id:
            operation["responses"][status]["links"] = {
                target: {"operationId": target, "parameters": parameters}
                for target, parameters in targets.items()
            }


def _error_examples(responses: dict) -> None:
    """An example for every error response of the envelope's schema that has none."""
    for status, response in responses.items():
        content = response.get("content", {}).get("application/json")
        if not content or content.get("schema", {}).get("$ref") != ERROR_REF:
            continue
        code = int(status) if str(status).isdigit() else 500
        example = {
            "status": code,
            "error": HTTPStatus(code).phrase,
            "message": response.get("description", HTTPStatus(code).description),
            "request_id": "5f0c2a7e9b3d4c1a8e6f0b2d4c6a8e0f",
        }
        if code == 422:
            example["errors"] = {"quantity": ["Must be > 0."]}
        content.setdefault("example", example)


def _drop_unused_schemas(spec: dict) -> None:
    """flask-smorest always registers PaginationMetadata; Fynix pages carry their own."""
    schemas = spec["components"]["schemas"]
    for name in list(schemas):
        ref = json.dumps(f"#/components/schemas/{name}")
        others = {key: value for key, value in schemas.items() if key != name}
        if ref not in json.dumps([spec["paths"], others, spec["components"].get("responses")]):
            del schemas[name]

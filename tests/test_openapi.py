"""The OpenAPI 3 document and the docs page, which must work with no internet access."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

# Every (method, path) of docs/api.md; path parameters are written {} whatever their name.
CONTRACT = [
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/password"),
    ("post", "/api/auth/logout"),
    ("get", "/api/users/me"),
    ("patch", "/api/users/me"),
    ("get", "/api/portfolio/positions"),
    ("post", "/api/portfolio/positions"),
    ("get", "/api/portfolio/positions/{}"),
    ("patch", "/api/portfolio/positions/{}"),
    ("delete", "/api/portfolio/positions/{}"),
    ("get", "/api/portfolio/summary"),
    ("get", "/api/market/quotes/{}"),
    ("get", "/api/market/quotes"),
    ("put", "/api/market/quotes/{}"),
    ("get", "/api/public/market-overview"),
    ("get", "/api/notifications"),
    ("get", "/api/notifications/unread-count"),
    ("post", "/api/notifications/{}/read"),
    ("post", "/api/notifications/read-all"),
    ("delete", "/api/notifications/{}"),
    ("post", "/api/notifications"),
    ("post", "/api/ai/interactions"),
    ("get", "/api/ai/threads"),
    ("get", "/api/ai/threads/{}"),
    ("get", "/cache/stats"),
    ("post", "/cache/clear"),
    ("post", "/cache/warm"),
    ("delete", "/cache/pattern/{}"),
    ("get", "/cache/health"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
]
PUBLIC = {
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("get", "/api/public/market-overview"),
    ("get", "/healthz"),
    ("get", "/readyz"),
}
# Open unless METRICS_TOKEN is set, then that token (a bearer token of its own).
OPTIONAL_TOKEN = {("get", "/metrics")}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture
def spec(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.content_type.startswith("application/json")
    return response.get_json()


def operations(spec: dict) -> dict[tuple[str, str], dict]:
    """(method, path with {} for parameters) -> operation object."""
    found = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                found[(method, re.sub(r"\{[^}]+\}", "{}", path))] = operation
    return found


def references(node: object) -> list[str]:
    """Every $ref in a JSON document."""
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in references(value)]
    return []


def test_document_is_openapi_3(spec):
    assert re.fullmatch(r"3\.\d+\.\d+", spec["openapi"])
    assert spec["info"]["title"]
    assert spec["info"]["version"]
    assert spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_reference_resolves(spec):
    refs = references(spec)
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            assert part in node, f"unresolved {ref}"
            node = node[part]


def test_every_operation_documents_responses_and_path_parameters(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            assert operation["responses"], (method, path)
            for response in operation["responses"].values():
                assert "description" in response or "$ref" in response
            declared = {
                parameter["name"]
                for parameter in item.get("parameters", []) + operation.get("parameters", [])
                if parameter.get("in") == "path" and parameter.get("required")
            }
            assert set(re.findall(r"\{([^}]+)\}", path)) <= declared, (method, path)


def test_every_documented_operation_is_in_the_document(spec):
    documented = operations(spec)
    missing = [entry for entry in CONTRACT if entry not in documented]
    assert missing == []


def test_security_matches_the_documentation(spec):
    for entry, operation in operations(spec).items():
        if entry in PUBLIC:
            assert operation.get("security") == [], entry
        elif entry in OPTIONAL_TOKEN:
            assert operation["security"] == [{}, {"metricsToken": []}], entry
        elif entry in CONTRACT:
            assert operation.get("security", spec["security"]) == [{"bearerAuth": []}], entry


def test_request_bodies_come_from_the_validating_schemas(spec):
    register = operations(spec)[("post", "/api/auth/register")]
    schema_ref = register["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"email", "username", "password"}
    assert "422" in register["responses"]


class AssetCollector(HTMLParser):
    """Collect the src/href of every element of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]


def test_docs_page_uses_only_same_origin_assets(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.content_type.startswith("text/html")
    page = response.get_data(as_text=True)
    collector = AssetCollector()
    collector.feed(page)
    assert len(collector.urls) >= 2
    for url in collector.urls:
        assert url.startswith("/api/docs/static/"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.data) > 1000, url
        asset.close()
    assert re.search(r"""url:\s*["']/api/openapi\.json["']""", page)
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", page)


def test_every_operation_has_an_id_a_description_and_examples(spec):
    ids = []
    for (method, path), operation in operations(spec).items():
        ids.append(operation["operationId"])
        assert re.fullmatch(r"[a-z]+[A-Z][A-Za-z]*", operation["operationId"]), path
        assert len(operation["description"]) > 20, (method, path)
        assert "`" not in operation["summary"], (method, path)
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            assert "example" in body, (method, path)
        for status, response in operation["responses"].items():
            for media in response.get("content", {}).values():
                assert "example" in media, (method, path, status)
    assert len(ids) == len(set(ids)) >= 33


def test_the_document_names_its_server_and_documents_the_probes(client):
    spec = client.get("/api/openapi.json", base_url="http://api.example.test:8123").get_json()
    assert spec["servers"][0]["url"] == "http://api.example.test:8123"
    documented = operations(spec)
    for path in ("/healthz", "/readyz", "/metrics"):
        assert documented[("get", path)]["operationId"], path
    assert set(documented[("get", "/readyz")]["responses"]) == {"200", "503"}
    assert documented[("get", "/healthz")]["security"] == []


def test_cached_reads_document_their_cache_headers_and_304(spec):
    summary = operations(spec)[("get", "/api/portfolio/summary")]
    headers = summary["responses"]["200"]["headers"]
    assert {"X-Cache", "ETag", "Cache-Control", "Age"} <= set(headers)
    assert headers["X-Cache"]["schema"]["enum"] == ["HIT", "MISS", "BYPASS"]
    assert "304" in summary["responses"]


def test_links_name_existing_operations(spec):
    ids = {operation["operationId"] for operation in operations(spec).values()}
    links = [
        link
        for operation in operations(spec).values()
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert len(links) >= 6
    assert {link["operationId"] for link in links} <= ids

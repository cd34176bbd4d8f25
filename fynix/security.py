"""Security headers on every response; HSTS only where the app is served over HTTPS (production)."""

from __future__ import annotations

from flask import Flask, Response

HSTS = "max-age=31536000; includeSubDomains"
# JSON needs no resources and must never be framed; pages set their own policy first.
JSON_CSP = "default-src 'none'; frame-ancestors 'none'"
BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def json_security_headers(hsts: bool) -> list[tuple[str, str]]:
    """The security headers of a JSON answer (the cache's fast path sends these too)."""
    headers = [*BASE_HEADERS.items(), ("Content-Security-Policy", JSON_CSP)]
    return [*headers, ("Strict-Transport-Security", HSTS)] if hsts else headers


def add_security_headers(response: Response, hsts: bool) -> Response:
    """Set the headers a response has not set itself (admin pages keep their stricter CSP)."""
    for name, value in BASE_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "application/json":
        response.headers.setdefault("Content-Security-Policy", JSON_CSP)
    if hsts:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def register_security(app: Flask) -> None:
    """Add the security headers to every response of ``app``.

    Strict-Transport-Security is sent only by the production configuration: a
    development or test server on plain HTTP must not pin browsers to HTTPS.
    """
    hsts = app.config.get("ENV_NAME") == "production"
    app.after_request(lambda response: add_security_headers(response, hsts))

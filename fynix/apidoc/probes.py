"""The operations outside flask-smorest's blueprints: the probes and /metrics."""

from __future__ import annotations

TEXT = {"text/plain": {"schema": {"type": "string"}, "example": "fynix_requests_total 0.0\n"}}

HEALTH = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string", "enum": ["ok"]}},
}
READINESS = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded", "down"]},
        "checks": {
            "type": "object",
            "description": "database: ok or down; schema: current and head revisions; cache",
            "additionalProperties": True,
        },
    },
}
READY_EXAMPLE = {
    "status": "ok",
    "checks": {
        "database": "ok",
        "schema": {"current": "0012", "head": "0012", "at_head": True},
        "cache": {"status": "ok", "backend": "redis", "latency_ms": 0.3},
    },
}


SCHEMAS = {"Health": HEALTH, "Readiness": READINESS}


def _json(name: str, example: dict) -> dict:
    return {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}, "example": example}
    }


PROBES: dict[str, dict] = {
    "/healthz": {
        "get": {
            "summary": "Liveness probe",
            "tags": ["Operations"],
            "security": [],
            "responses": {
                "200": {
                    "description": "The process serves",
                    "content": _json("Health", {"status": "ok"}),
                }
            },
        }
    },
    "/readyz": {
        "get": {
            "summary": "Readiness probe",
            "tags": ["Operations"],
            "security": [],
            "responses": {
                "200": {
                    "description": "Ready (maybe degraded)",
                    "content": _json("Readiness", READY_EXAMPLE),
                },
                "503": {
                    "description": "Not ready: the database is down or behind",
                    "content": _json("Readiness", {**READY_EXAMPLE, "status": "down"}),
                },
            },
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics",
            "tags": ["Operations"],
            # Open unless METRICS_TOKEN is set; then that token, as a bearer token.
            "security": [{}, {"metricsToken": []}],
            "responses": {
                "200": {"description": "Prometheus text format 0.0.4", "content": TEXT},
                "401": {
                    "description": "METRICS_TOKEN is set and was not given",
                    "headers": {
                        "WWW-Authenticate": {"$ref": "#/components/headers/WWW_AUTHENTICATE"}
                    },
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        }
    },
}

"""Schemathesis, as an API consumer runs it, against the real server (gunicorn, Redis).

Every check (``--checks all``: status codes, schemas, headers, content types, positive data
accepted, negative data refused, auth enforced, use after free, created resources found...)
and every phase (examples, coverage, fuzzing, stateful over the document's links) must find
0 failures, as a user and as an administrator. The document is the one the server serves at
/api/openapi.json with its catch-all ``default`` responses removed, so every status an
operation answers must be documented explicitly.

FYNIX_FUZZ_EXAMPLES (default 15 per operation) deepens a run; FYNIX_FUZZ_SEED picks another
fixed seed (default 1, so CI runs the same cases every time and a failure reproduces).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import grant_admin
from tests.gunicorn_server import ROOT, start_gunicorn

EXAMPLES = os.environ.get("FYNIX_FUZZ_EXAMPLES", "15")
SEED = os.environ.get("FYNIX_FUZZ_SEED", "1")
PASSWORD = "fuzzing-account-password-1"  # not the documented examples' password
# Links are the document's own: inferred ones would pair e.g. an admin's notification to a
# user with the admin's own notification routes, which rightly answer 404.
CONFIG = """
[phases.stateful.inference]
algorithms = []
"""
st_cli = [sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()"]


@pytest.fixture
def server(app, database_url, redis_server):
    """gunicorn on the test database, with a Redis cache of its own key prefix."""
    started = start_gunicorn(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_server,
            "CACHE_KEY_PREFIX": f"fynixtest-{uuid.uuid4().hex[:10]}",
        },
        workers=2,
    )
    yield started
    started.stop()


def strict_document(server) -> dict:
    """The served document without ``default`` responses."""
    status, _, spec = server.json("GET", "/api/openapi.json")
    assert status == 200
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method != "parameters":
                operation["responses"].pop("default", None)
    return spec


def run_schemathesis(server, database_url: str, user_id: int, tmp_path: Path):
    """``st run`` with every check and phase against ``server``, as the user ``user_id``."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    base = f"http://127.0.0.1:{server.port}"
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(strict_document(server)))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.fuzz_auth",
        "FYNIX_FUZZ_BASE": base,
        "FYNIX_FUZZ_DATABASE": database_url,
        "FYNIX_FUZZ_USER_ID": str(user_id),
        "FYNIX_FUZZ_PASSWORD": PASSWORD,
        "NO_COLOR": "1",
    }
    args = [
        *st_cli,
        "--config-file",
        str(config),
        "run",
        str(document),
        "--url",
        base,
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        EXAMPLES,
        "--seed",
        SEED,
        # One worker: Python 3.11.7's ast.parse is not safe across threads (CPython
        # gh-106905, "AST constructor recursion depth mismatch"), and Hypothesis parses
        # lambdas' source while schemathesis builds its strategies.
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--output-truncate",
        "false",
    ]
    return subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False
    )


ADMIN_ONLY = {
    "PUT /api/market/quotes/{symbol}",
    "POST /api/notifications",
    "GET /cache/stats",
    "POST /cache/clear",
    "POST /cache/warm",
    "DELETE /cache/pattern/{pattern}",
    "GET /cache/health",
}


def refused_operations(output: str) -> set[str]:
    """The operations schemathesis saw answer only 401/403 (its "Authentication failed")."""
    start = output.find("Authentication failed:")
    if start < 0:
        return set()
    section = output[start : output.find("💡", start)]
    return set(re.findall(r"^  - ([A-Z]+ \S+)$", section, flags=re.MULTILINE))


def seed_data(server, admin: dict, user: dict) -> None:
    """The documented examples' account (so the login example logs in), a quote and a
    position for the generated ids and symbols to find."""
    body = {"email": "ada@example.com", "username": "ada", "password": "analytical-engine"}
    assert server.json("POST", "/api/auth/register", body)[0] == 201
    assert server.json("PUT", "/api/market/quotes/AAPL", {"price": "190.10"}, admin)[0] in {
        200,
        201,
    }
    body = {"symbol": "AAPL", "quantity": "3", "average_cost": "150"}
    assert server.json("POST", "/api/portfolio/positions", body, user)[0] == 201


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.parametrize("role", ["user", "admin"])
def test_schemathesis_finds_nothing(app, database_url, server, role, tmp_path):
    admin, admin_headers = server.register_user("fa", PASSWORD)
    grant_admin(app, admin["id"])
    user, user_headers = server.register_user("fu", PASSWORD)
    seed_data(server, admin_headers, user_headers)
    account = admin if role == "admin" else user
    note = {"user_id": account["id"], "type": "system", "title": "Hi", "body": "Fuzz me"}
    assert server.json("POST", "/api/notifications", note, admin_headers)[0] == 201

    result = run_schemathesis(server, database_url, account["id"], tmp_path)
    output = result.stdout + result.stderr
    print(output[-6000:])
    assert result.returncode == 0, output[-20000:]
    # Every phase ran and found nothing; the stateful phase followed the document's links.
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}\b", output), phase
    links = re.search(r"API Links:\s+(\d+) covered", output)
    assert links, output[-3000:]
    assert int(links.group(1)) >= 4, links.group()
    generated = re.search(r"(\d+) generated", output)
    assert generated
    assert int(generated.group(1)) >= 500
    # Only what needs another secret (the current password) or another role is refused.
    refused = refused_operations(output)
    assert "POST /api/auth/password" in refused
    assert refused - {"POST /api/auth/password"} <= (ADMIN_ONLY if role == "user" else set())

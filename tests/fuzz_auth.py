"""Schemathesis hooks (SCHEMATHESIS_HOOKS=tests.fuzz_auth): log in as the fuzzing account.

The fuzzer calls POST /api/auth/logout with its own token, which then is refused (401), as
it must be. A fixed -H header would turn every later case into a 401; this provider logs in
again whenever a token is refused. The fuzzer also renames the account (PATCH
/api/users/me), so the login is the account's username as the database has it now.
FYNIX_FUZZ_BASE, FYNIX_FUZZ_DATABASE, FYNIX_FUZZ_USER_ID and FYNIX_FUZZ_PASSWORD name the
server, its database and the account (tests/test_fuzz.py sets them).
"""

from __future__ import annotations

import os

import requests
import schemathesis
import sqlalchemy as sa


def current_username() -> str:
    """The fuzzing account's username now."""
    engine = sa.create_engine(os.environ["FYNIX_FUZZ_DATABASE"])
    try:
        with engine.connect() as connection:
            return connection.scalar(
                sa.text("SELECT username FROM users WHERE id = :id"),
                {"id": int(os.environ["FYNIX_FUZZ_USER_ID"])},
            )
    finally:
        engine.dispose()


@schemathesis.auth()
class FynixLogin:
    """A fresh bearer token from POST /api/auth/login, fetched again after a 401."""

    def get(self, case: object, ctx: object) -> str:
        """Log in through the API."""
        response = requests.post(
            f"{os.environ['FYNIX_FUZZ_BASE']}/api/auth/login",
            json={
                "login": current_username(),
                "password": os.environ["FYNIX_FUZZ_PASSWORD"],
            },
            timeout=15,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def set(self, case: object, data: str, ctx: object) -> None:
        """Send the token as the document's bearerAuth says."""
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

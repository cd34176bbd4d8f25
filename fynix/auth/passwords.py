"""Password hashing with Argon2id (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# Verifying against this keeps a failed login by an unknown name as slow as a
# wrong password, so timing does not reveal which part was wrong.
_DUMMY_PASSWORD = "fynix-dummy-password"  # noqa: S105 (never a real credential)


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"], memory_cost=config["ARGON2_MEMORY_COST"]
    )


_dummy_hashes: dict[tuple[int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(_DUMMY_PASSWORD)
    return _dummy_hashes[key]


def hash_password(password: str) -> str:
    """Return an Argon2id hash of ``password``."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; an absent hash still costs one verification."""
    hasher = _hasher()
    target = password_hash or _dummy_hash(hasher)
    try:
        return hasher.verify(target, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False

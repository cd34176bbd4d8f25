"""Cache key layout; the only place that spells a key.

    <prefix>:<namespace>:{<scope>}:gen                    generation of one scope
    <prefix>:<namespace>:{<scope>}:e:<endpoint>:<digest>  an entry
    <prefix>:<namespace>:{<scope>}:lock:<endpoint>:<digest>
    <prefix>:auth:{u<id>}:gen                            the user's token generation
    <prefix>:auth:{u<id>}:t:<token id>                   a token confirmed by the database
    <prefix>:stats                                        shared hit/miss counters
    <prefix>:epoch                                        in-process store only: host epoch

``scope`` is ``u<user id>`` for per-user data and ``g`` for shared data. The braces
are a Redis Cluster hash tag: a scope's generation, entries and locks share a slot,
so the one MGET of a cache hit never crosses slots.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def scope_of(user_id: int | None) -> str:
    """``u42`` for a user's data, ``g`` for shared data."""
    return f"u{int(user_id)}" if user_id is not None else "g"


def scope_base(prefix: str, namespace: str, scope: str) -> str:
    """The part every key of one scope starts with."""
    return f"{prefix}:{namespace}:{{{scope}}}"


def gen_key(prefix: str, namespace: str, scope: str) -> str:
    """Key holding the scope's current generation token."""
    return f"{scope_base(prefix, namespace, scope)}:gen"


def token_key(prefix: str, scope: str, token_id: str) -> str:
    """Marker saying a bearer token was confirmed against the database (``tokens.py``)."""
    return f"{prefix}:auth:{{{scope}}}:t:{token_id}"


def is_generation_key(key: str) -> bool:
    """Generation keys (a scope's, a user's token generation, the local store's epoch)."""
    return key.endswith((":gen", ":epoch"))


def is_marker_key(key: str) -> bool:
    """Token markers (``token_key``)."""
    return ":auth:" in key and ":t:" in key


def epoch_key(prefix: str) -> str:
    """Key of the host-wide epoch of the in-process store (bumped by ``cache clear``)."""
    return f"{prefix}:epoch"


def entry_key(prefix: str, namespace: str, scope: str, endpoint: str, digest: str) -> str:
    """Key of one cached response."""
    return f"{scope_base(prefix, namespace, scope)}:e:{endpoint}:{digest}"


def hash_tag(key: str) -> str:
    """The Redis Cluster hash tag of ``key`` (its scope): keys sharing it share a slot."""
    return key[key.index("{") + 1 : key.index("}")]


def lock_key(entry: str) -> str:
    """Stampede lock guarding the computation of ``entry``."""
    return entry.replace(":e:", ":lock:", 1)


def stats_key(prefix: str) -> str:
    """Hash of shared counters."""
    return f"{prefix}:stats"


def request_digest(
    view_args: dict[str, Any], query: dict[str, Any], headers: dict[str, str]
) -> str:
    """Stable digest of what varies a response besides user and endpoint.

    ``query`` holds only validated, allow-listed arguments, so junk parameters or
    another spelling of the same value cannot multiply entries.
    """
    canonical = json.dumps(
        {"v": view_args, "q": query, "h": headers},
        sort_keys=True,
        default=str,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]

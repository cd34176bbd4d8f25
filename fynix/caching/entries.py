"""Cache entries: a JSON metadata line, a newline, then the response body bytes (no pickle)."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from functools import lru_cache

FORMAT_VERSION = 2  # 2: owner is the account's '<id>.<stamp>', never a bare id


@dataclass(frozen=True)
class Entry:
    """A stored 200 response and what it was computed under."""

    generation: str | None
    owner: str | None
    cached_at: float
    ttl: int
    etag: str
    content_type: str
    body: bytes

    def encode(self) -> bytes:
        """Serialize as ``<json meta>\\n<body>``."""
        meta = {
            "v": FORMAT_VERSION,
            "gen": self.generation,
            "owner": self.owner,
            "cached_at": self.cached_at,
            "ttl": self.ttl,
            "status": 200,
            "etag": self.etag,
            "headers": {"Content-Type": self.content_type},
        }
        return json.dumps(meta, separators=(",", ":")).encode() + b"\n" + self.body

    @property
    def age(self) -> int:
        """Whole seconds since the entry was computed."""
        return max(0, int(time.time() - self.cached_at))


def decode(raw: bytes | None) -> Entry | None:
    """Parse a stored entry; anything unexpected is treated as absent."""
    if not raw:
        return None
    head, sep, body = raw.partition(b"\n")
    if not sep:
        return None
    meta = _metadata(head)
    return None if meta is None else Entry(*meta, body=body)


@lru_cache(maxsize=8192)
def _metadata(head: bytes) -> tuple | None:
    """(generation, owner, cached_at, ttl, etag, content type) of a metadata line, parsed
    once per distinct line: repeated HITs of one entry read the same line."""
    try:
        meta = json.loads(head)
        if meta.get("v") != FORMAT_VERSION or meta.get("status") != 200:
            return None
        owner = meta["owner"] if isinstance(meta["owner"], str) else None
        return (meta["gen"], owner, float(meta["cached_at"]), int(meta["ttl"]),
                str(meta["etag"]), str(meta["headers"]["Content-Type"]))  # fmt: skip
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def make_etag(body: bytes) -> str:
    """A strong validator for ``body``."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'

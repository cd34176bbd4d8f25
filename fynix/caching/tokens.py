"""Which bearer tokens a cache HIT may be served to, without asking the database.

A token is admitted by a marker, ``<prefix>:auth:{u<id>}:t:<token id>``, written after the
database confirmed it (right account, not logged out) and derived from the account owner,
the token's own id and the user's token generation ``<prefix>:auth:{u<id>}:gen``. Both are
read in the same round trip as the entry, so a HIT stays one round trip and zero SQL:

- a logout gives the marker a new random value (``events.token_revoked``): no HIT for it;
- a password change starts a new token generation (``events.credentials_changed``): no
  marker of an earlier token matches any more;
- a marker that is missing or stale (Redis restarted, evicted) only sends the request to
  the database once; the marker is rewritten with compare-and-set, so it can never undo a
  logout that happened meanwhile.
"""

from __future__ import annotations

import hashlib
import time
from contextlib import suppress
from functools import lru_cache

from fynix.caching import keys
from fynix.caching.hooks import Identity
from fynix.caching.manager import Bypass, CacheManager

TOKEN_NAMESPACE = "auth"  # noqa: S105 (a key namespace, not a secret)


@lru_cache(maxsize=8192)
def marker_value(owner: str, token_id: str, generation: bytes | None) -> bytes:
    """What the marker of a confirmed token of ``owner`` holds under ``generation``: its
    own value, so that no other token's marker can ever admit it."""
    text = f"{owner}|{token_id}|{generation.decode('utf-8', 'replace') if generation else '-'}"
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest().encode()


def token_generation_key(manager: CacheManager, user_id: int) -> str:
    """The user's token generation."""
    return keys.gen_key(manager.prefix, TOKEN_NAMESPACE, keys.scope_of(user_id))


def admit_new_token(manager: CacheManager, identity: Identity) -> None:
    """A token just issued after the database checked the password: admit it at once, so
    its first requests are served from the cache too (two round trips, at login)."""
    gate = TokenGate(manager, identity)
    with suppress(Bypass):
        (generation,) = manager.call("mget", gate.keys[:1])
        gate.admits(generation, None)  # a new token id: no marker yet
        gate.remember()


class TokenGate:
    """The two keys a login-only answer reads, and what they must say."""

    def __init__(self, manager: CacheManager, identity: Identity) -> None:
        self.manager = manager
        self.identity = identity
        scope = keys.scope_of(identity.user_id)
        self.keys = [
            token_generation_key(manager, identity.user_id),
            keys.token_key(manager.prefix, scope, identity.token_id),
        ]
        self._read: tuple[bytes | None, bytes | None] = (None, None)

    def admits(self, generation: bytes | None, marker: bytes | None) -> bool:
        """Whether the marker read says this token was confirmed under this generation."""
        self._read = (generation, marker)
        identity = self.identity
        return marker is not None and marker == marker_value(
            identity.owner, identity.token_id, generation
        )

    def confirm(self) -> None:
        """Ask the database (401 if the token is refused), then admit the token from now on."""
        self.manager.hooks.confirm_identity()
        self.remember()

    def remember(self) -> None:
        """Write the marker, only if it still holds what was read: a logout that landed in
        between keeps its revocation, a password change its new generation."""
        generation, marker = self._read
        ttl = int(self.identity.expires_at - time.time()) + 1
        value = marker_value(self.identity.owner, self.identity.token_id, generation)
        if ttl > 0:
            with suppress(Bypass):
                self.manager.call("cas", self.keys[1], marker, value, ttl)

"""Generation tokens shared by every process of one host through a memory-mapped file.

Without Redis each process keeps its own entries, but a write made by any process on the
host (another gunicorn worker, ``flask market load``, the quote feed) must still make them
stale everywhere. Generation keys are therefore not kept in process memory but in a table
of 8-byte slots in one file that every process maps: a read is a memory load, a bump is
one 8-byte store of a random token. Keys hash to slots; two keys sharing a slot only cost
extra misses, never a stale read, because a generation slot is only ever written with a new
random token (token markers, whose values repeat, live in a table of their own). Slots are
written whole, never read-modify-written, so concurrent bumps cannot lose one another.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import secrets
from pathlib import Path

SLOT_BYTES = 8
SLOTS = 1 << 18  # 2 MiB, sparse on disk until slots are written
EMPTY = bytes(SLOT_BYTES)


class HostGenerations:
    """A fixed-size table of generation tokens in a file mapped by every process."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < SLOTS * SLOT_BYTES:
            os.ftruncate(self._fd, SLOTS * SLOT_BYTES)
        self._map = mmap.mmap(self._fd, SLOTS * SLOT_BYTES)

    @staticmethod
    def _offset(key: str) -> int:
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        return (int.from_bytes(digest, "little") % SLOTS) * SLOT_BYTES

    def get(self, key: str) -> bytes | None:
        """The current token of ``key`` as hex bytes, or None when never bumped."""
        offset = self._offset(key)
        raw = self._map[offset : offset + SLOT_BYTES]
        return None if raw == EMPTY else raw.hex().encode()

    def set(self, key: str, token: bytes) -> None:
        """Give ``key`` the token ``token`` (16 hex digits, as the cache manager makes them)."""
        raw = bytes.fromhex(token.decode())
        if len(raw) != SLOT_BYTES or raw == EMPTY:
            raise ValueError(f"a generation token is {SLOT_BYTES} non-zero bytes in hex")
        offset = self._offset(key)
        self._map[offset : offset + SLOT_BYTES] = raw

    def compare_and_set(self, key: str, expected: bytes | None, token: bytes) -> bool:
        """Set ``token`` only if ``key`` still holds ``expected`` (None: never set), under
        an exclusive lock on the file so that no other process interleaves."""
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            if self.get(key) != expected:
                return False
            self.set(key, token)
            return True
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def bump(self, key: str) -> None:
        """Give ``key`` a new random token."""
        token = EMPTY
        while token == EMPTY:
            token = secrets.token_bytes(SLOT_BYTES)
        self.set(key, token.hex().encode())

    def close(self) -> None:
        """Unmap and close the file."""
        self._map.close()
        os.close(self._fd)


def host_file(
    directory: str | os.PathLike, kind: str, prefix: str, scope: str, suffix: str
) -> Path:
    """A file every process of the host shares, ``cache-<kind>-<hash>.<suffix>``: one per key
    prefix and ``scope`` (the database for the local tables; the Redis for the owed
    invalidations and the server ids)."""
    name = hashlib.sha256(f"{prefix}\0{scope}".encode()).hexdigest()[:16]
    return Path(directory) / f"cache-{kind}-{name}.{suffix}"

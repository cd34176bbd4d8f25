"""Invalidations Redis has not acknowledged yet: kept by the process and in a host file.

A write whose new generation cannot be set (Redis down, paused for a failover, cut off)
owes it. The process replays what it owes before it reads Redis again. The host file
(``cache-owed-*.txt`` in CACHE_LOCAL_DIR, default the instance folder) does two more things:
every other process of the host adopts what is owed within its next maintenance round
(about a second) and then replays it too before serving anything from Redis, so none of
them serves an answer the write made stale; and it outlives the process, so a worker
restarted by a deploy, or a command that exited, leaves its debt to the next process.
Each owing is one line, ``<line id> <generation key>``; lines are removed once Redis has
acknowledged their replay.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

MAX_PENDING = 10_000
CLEAR_ALL = "*"
MAX_FILE_BYTES = 1 << 20  # past this, the file is replaced by one line owing everything
MAX_BATCH_BYTES = 1 << 20  # what one write may append beyond it before that happens
WARN_EVERY_SECONDS = 60.0
LINE = re.compile(r"([0-9a-f]{16}) ([!-~]{1,1000})")  # line id, generation key (or "*")


class OwedInvalidations:
    """Generation keys owed to Redis, each with the sequence number of its latest owing."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._keys: dict[str, int] = {}
        self.count = 0  # len(self._keys), an attribute: read before every Redis call
        self._lines: dict[str, set[str]] = {}  # key -> ids of its lines in the host file
        self._sequence = 0
        self._seen: tuple[int, int] | None = None  # (size, mtime) of the file last read
        self._warned_at = -WARN_EVERY_SECONDS
        self._lock = threading.Lock()

    def add(self, gen_keys: list[str]) -> None:
        """Owe ``gen_keys`` (after a write could not set them), here and host-wide."""
        lines = [(secrets.token_hex(8), key) for key in gen_keys]
        self._remember(lines)
        if self.path is None:
            return
        with self._host_file() as file:
            if file is None:
                return
            file.write(b"".join(f"{line_id} {key}\n".encode() for line_id, key in lines))
            file.flush()
            if os.fstat(file.fileno()).st_size > MAX_FILE_BYTES:
                # Too much to read every second: one line that owes everything instead.
                line_id = secrets.token_hex(8)
                self._remember([(line_id, CLEAR_ALL)])
                self._replace(f"{line_id} {CLEAR_ALL}\n".encode())

    def adopt(self) -> None:
        """Take what other processes of the host owe (one stat when nothing changed)."""
        if self.path is None:
            return
        try:
            stat = os.stat(self.path)
        except OSError:  # no file yet (nothing owed), or unreadable: said by _host_file
            return
        if (stat.st_size, stat.st_mtime_ns) == self._seen or stat.st_size == 0:
            return
        with self._host_file() as file:
            if file is None:
                return
            file.seek(0)
            lines = _parse(file.read(MAX_FILE_BYTES + MAX_BATCH_BYTES))
            stat = os.fstat(file.fileno())
            self._seen = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            known = set().union(*self._lines.values())
        self._remember([line for line in lines if line[0] not in known])

    def due(self) -> dict[str, int]:
        """What to replay now: each key with the sequence number it is owed under."""
        with self._lock:
            return dict(self._keys)

    def settle(self, replayed: dict[str, int]) -> None:
        """Redis acknowledged ``replayed``: forget each key not owed again meanwhile, and
        its lines in the host file."""
        done: set[str] = set()
        with self._lock:
            for key, sequence in replayed.items():
                if self._keys.get(key) == sequence:
                    del self._keys[key]
                    done |= self._lines.pop(key, set())
            self.count = len(self._keys)
        if not done or self.path is None:
            return
        with self._host_file() as file:
            if file is None:
                return
            file.seek(0)
            content = file.read()
            kept = b"".join(
                line for line in content.splitlines(keepends=True)
                if line.split(b" ", 1)[0].decode("ascii", "replace") not in done
            )  # fmt: skip
            if kept != content:
                self._replace(kept)

    def _remember(self, lines: list[tuple[str, str]]) -> None:
        if not lines:
            return
        with self._lock:
            self._sequence += 1
            keys = {key for _, key in lines}
            if (
                CLEAR_ALL in self._keys
                or CLEAR_ALL in keys
                or (len(self._keys) + len(keys) > MAX_PENDING)
            ):
                ids = set().union(*self._lines.values(), (line_id for line_id, _ in lines))
                self._keys, self._lines = {CLEAR_ALL: self._sequence}, {CLEAR_ALL: ids}
            else:
                for line_id, key in lines:
                    self._keys[key] = self._sequence
                    self._lines.setdefault(key, set()).add(line_id)
            self.count = len(self._keys)

    @contextmanager
    def _host_file(self) -> Iterator[IO[bytes] | None]:
        """The host file, open and locked (the file now at the path: another process may
        have replaced it while this one waited for the lock). An unusable file (a directory,
        another user's, a full disk) is logged and skipped: what is owed stays owed in this
        process, and no request fails for it."""
        assert self.path is not None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            while True:
                file = open(self.path, "a+b")  # noqa: SIM115 (closed below)
                try:
                    fcntl.flock(file, fcntl.LOCK_EX)
                    if os.fstat(file.fileno()).st_ino == os.stat(self.path).st_ino:
                        break
                except BaseException:
                    file.close()
                    raise
                file.close()
        except OSError as exc:
            self._warn(exc)
            yield None
            return
        try:
            yield file
        except OSError as exc:
            self._warn(exc)
        finally:
            file.close()  # also releases the lock

    def _replace(self, content: bytes) -> None:
        """Replace the host file (its lock held by the caller) atomically with ``content``."""
        assert self.path is not None
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(content)
        os.replace(temporary, self.path)

    def _warn(self, exc: OSError) -> None:
        now = time.monotonic()
        if now - self._warned_at > WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("owed invalidations file %s unusable: %s", self.path, exc)


def _parse(content: bytes) -> list[tuple[str, str]]:
    """The well-formed lines of the host file; anything else (a torn or foreign line,
    bytes that are not ASCII) is skipped."""
    lines = []
    for raw in content.splitlines():
        match = LINE.fullmatch(raw.decode("ascii", "replace"))
        if match:
            lines.append((match[1], match[2]))
    return lines

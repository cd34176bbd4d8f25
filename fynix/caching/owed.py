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
import hashlib
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

MAX_PENDING = 10_000
CLEAR_ALL = "*"


def owed_path(directory: str | os.PathLike, prefix: str, target: str) -> Path:
    """The host file of one deployment: its key prefix on one Redis (``target``)."""
    name = hashlib.sha256(f"{prefix}\0{target}".encode()).hexdigest()[:16]
    return Path(directory) / f"cache-owed-{name}.txt"


class OwedInvalidations:
    """Generation keys owed to Redis, each with the sequence number of its latest owing."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._keys: dict[str, int] = {}
        self.count = 0  # len(self._keys), an attribute: read before every Redis call
        self._lines: dict[str, set[str]] = {}  # key -> ids of its lines in the host file
        self._sequence = 0
        self._seen: tuple[int, int] | None = None  # (size, mtime) of the file last read
        self._lock = threading.Lock()

    def add(self, gen_keys: list[str]) -> None:
        """Owe ``gen_keys`` (after a write could not set them), here and host-wide."""
        lines = [(secrets.token_hex(8), key) for key in gen_keys]
        self._remember(lines)
        if self.path is not None:
            with self._file() as file:
                file.writelines(f"{line_id} {key}\n" for line_id, key in lines)

    def adopt(self) -> None:
        """Take what other processes of the host owe (one stat when nothing changed)."""
        if self.path is None:
            return
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return
        if (stat.st_size, stat.st_mtime_ns) == self._seen or stat.st_size == 0:
            return
        with self._file() as file:
            file.seek(0)
            lines = [line.split(" ", 1) for line in file.read().splitlines()]
            stat = os.fstat(file.fileno())
        self._seen = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            known = set().union(*self._lines.values())
        self._remember([(line[0], line[1]) for line in lines if len(line) == 2
                        and line[0] not in known])  # fmt: skip

    def due(self) -> dict[str, int]:
        """What to replay now: each key with the sequence number it is owed under."""
        with self._lock:
            return dict(self._keys)

    def settle(self, replayed: dict[str, int]) -> None:
        """Redis acknowledged ``replayed``: forget each key not owed again meanwhile."""
        done: set[str] = set()
        with self._lock:
            for key, sequence in replayed.items():
                if self._keys.get(key) == sequence:
                    del self._keys[key]
                    done |= self._lines.pop(key, set())
            self.count = len(self._keys)
        if done and self.path is not None:
            with self._file() as file:
                file.seek(0)
                kept = [line for line in file.read().splitlines(keepends=True)
                        if line.split(" ", 1)[0] not in done]  # fmt: skip
                file.seek(0)
                file.truncate()
                file.writelines(kept)

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
    def _file(self) -> Iterator[IO[str]]:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+", encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            try:
                yield file
                file.flush()
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)

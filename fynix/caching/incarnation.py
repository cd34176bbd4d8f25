"""Which Redis server the cache talks to, noticed by every process of the host.

A Redis that comes back from a snapshot (a crash with persistence on, a restored backup) or
a failover to a replica that lagged gives back generations and token markers that writes
had already replaced: old entries would look current again, a logged-out token admitted.
Nothing in the data can tell. The servers' ``run_id`` can: it changes whenever a server
starts. Each process's background thread reads it about once a second and compares it with
what the host last saw (a small file beside the owed invalidations, so a process that
starts after the change notices it too); on a change every entry cached before now is
distrusted, exactly as after an outage the process saw itself.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from fynix.caching.store import StoreError

log = logging.getLogger(__name__)


class ServerWatch:
    """The run ids of the cache's Redis servers, as this process and its host last saw them."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.ids: frozenset[str] | None = None

    def check(self, manager: Any) -> None:
        """Read the servers' run ids; distrust older entries when they changed."""
        try:
            ids = manager.store.server_ids()
        except StoreError as exc:
            manager.breaker.record_failure(exc)
            return
        previous = self.ids if self.ids is not None else self._read_host()
        self.ids = ids
        if ids == previous:
            return
        self._write_host(ids)
        if previous is not None:
            log.warning("the cache's Redis restarted or failed over: older entries distrusted")
            manager.breaker.distrust_since(time.time())

    def _read_host(self) -> frozenset[str] | None:
        if self.path is None:
            return None
        try:
            text = self.path.read_text(encoding="ascii", errors="replace")
        except OSError:
            return None
        return frozenset(text.split()) or None

    def _write_host(self, ids: frozenset[str]) -> None:
        if self.path is None:
            return
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(" ".join(sorted(ids)), encoding="ascii")
            os.replace(temporary, self.path)
        except (OSError, UnicodeError) as exc:
            log.warning("cache server file %s unusable: %s", self.path, exc)

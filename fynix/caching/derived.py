"""@derived_cache: answers computed at read time from cached units, e.g. a portfolio summary
valued from the user's cached holdings and the shared price book.

A HIT reads the unit's generation and entry and the shared source's generation in one round
trip (one pipelined MGET per hash slot on a cluster), then renders from memory: the rendered
bytes are remembered per (unit, shared generation), so repeated hits do no work at all. A
price change therefore invalidates no user's holdings: it only moves the shared generation,
and each process refreshes its copy of the book once (from the store, no SQL).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import current_app, request
from marshmallow import Schema

from fynix.caching import keys
from fynix.caching.decorator import (
    Lookup,
    bypass,
    cache_headers,
    gate_for,
    query_validator,
    respond,
)
from fynix.caching.entries import Entry, make_etag
from fynix.caching.manager import Bypass, CacheManager, get_manager
from fynix.caching.namespaces import NAMESPACES
from fynix.caching.shared import SharedCopy, Snapshot

MEMO_SIZE = 4096


@dataclass(frozen=True)
class UnitSource:
    """A per-user unit: how to load it for a user and how it is stored."""

    name: str
    load: Callable[[int], Any]
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]


@dataclass(frozen=True)
class Rendered:
    """A rendered answer and its validator."""

    body: bytes
    etag: str


def derived_cache(
    prefix: str,
    *,
    shared: str,
    render: Callable[..., Any],
    schema: type[Schema],
    unit: UnitSource | None = None,
    query: type[Schema] | None = None,
) -> Callable:
    """Cache a GET view derived from the shared source ``shared`` (and the caller's ``unit``).

    ``render(shared_value, **args)``, or ``render(unit_value, shared_value, unit_read_at,
    **args)`` with a unit, returns what ``schema`` dumps; ``args`` are the view arguments and
    the validated query. The view itself serves the request when the cache cannot.
    """
    namespace = NAMESPACES[prefix]
    validated_query = query_validator(query)
    dump = schema().dump
    memo: dict[tuple, Rendered] = {}

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            manager = get_manager()
            headers = cache_headers(namespace.visibility, unit is not None, ())
            query_args = validated_query(request.query_string)
            if query_args is None or request.method not in {"GET", "HEAD"}:
                return bypass(view(*args, **kwargs), manager, prefix, headers)
            params = {**kwargs, **query_args}
            try:
                state, rendered, age = _Derivation(
                    manager, manager.shared[shared], unit, prefix, params
                ).run(lambda parts: _render(memo, render, dump, parts, params))
            except Bypass:
                return bypass(view(*args, **kwargs), manager, prefix, headers)
            manager.count(prefix, "hits" if state == "HIT" else "misses")
            return respond(rendered.body, rendered.etag, state, headers, "application/json", age)

        return wrapper

    return decorator


@dataclass(frozen=True)
class _Parts:
    """What one answer is rendered from."""

    unit_entry: Entry | None
    unit_value: Any
    snapshot: Snapshot


class _Derivation:
    """One request's reads of a unit and a shared source."""

    def __init__(
        self,
        manager: CacheManager,
        copy: SharedCopy,
        unit: UnitSource | None,
        prefix: str,
        params: dict,
    ) -> None:
        self.manager, self.copy, self.unit, self.prefix = manager, copy, unit, prefix
        self.lookup: Lookup | None = None
        identity = manager.hooks.identity()
        self.gate = gate_for(manager, identity)
        if unit is not None:
            scope = keys.scope_of(identity.user_id)
            digest = keys.request_digest(params, {}, {})
            self.user_id = identity.user_id
            self.lookup = Lookup(
                manager,
                gen_key=keys.gen_key(manager.prefix, prefix, scope),
                entry_key=keys.entry_key(manager.prefix, prefix, scope, unit.name, digest),
                owner=identity.owner,
            )

    def run(self, render: Callable[[_Parts], Rendered]) -> tuple[str, Rendered, int | None]:
        """(HIT or MISS, the rendered answer, its age in seconds on a HIT)."""
        user_keys = [self.lookup.gen_key, self.lookup.entry_key] if self.lookup else []
        user_keys += self.gate.keys if self.gate else []
        groups = [[self.copy.gen_key(self.manager)], *([user_keys] if user_keys else [])]
        values = self.manager.call("mget_groups", groups)
        confirmed = False
        if self.gate is not None and not self.gate.admits(*values[-1][-2:]):
            self.gate.confirm()  # 401 for a refused token
            confirmed = True
        snapshot, missed = self.copy.obtain(self.manager, _generation(values[0][0]))
        missed = missed or confirmed
        entry = None
        if self.lookup is not None:
            entry = self.lookup.valid(*values[1][:2])
            if entry is None:
                entry, loaded = self._unit_entry()
                missed = missed or loaded
        parts = _Parts(entry, self.unit.decode(entry.body) if entry else None, snapshot)
        if missed:
            return "MISS", render(parts), None
        newest = max(snapshot.cached_at, entry.cached_at if entry else 0.0)
        return "HIT", render(parts), max(0, int(time.time() - newest))

    def _unit_entry(self) -> tuple[Entry, bool]:
        """(the unit from a peer computing it, or loaded and stored; True when loaded here)."""
        try:
            entry = self.lookup.wait_for_peer()
            if entry is not None:
                return entry, False
            self.manager.hooks.confirm_identity()
            read_at = time.time()
            body = self.unit.encode(self.unit.load(self.user_id))
            return self.lookup.keep(body, read_at, self.manager.ttl_for(self.prefix)), True
        finally:
            self.lookup.release()


def _generation(raw: bytes | None) -> str | None:
    return raw.decode("utf-8", "replace") if raw else None


def _render(
    memo: dict, render: Callable[..., Any], dump: Callable, parts: _Parts, params: dict
) -> Rendered:
    """Render once per distinct inputs; the same inputs always give the same bytes."""
    entry, snapshot = parts.unit_entry, parts.snapshot
    unit_key = (entry.owner, entry.generation, entry.cached_at) if entry else None
    key = (request.endpoint, keys.request_digest(params, {}, {}), unit_key,
           snapshot.generation, snapshot.cached_at)  # fmt: skip
    found = memo.get(key)
    if found is not None:
        return found
    if entry is None:
        result = render(snapshot.value, **params)
    else:
        read_at = datetime.fromtimestamp(entry.cached_at, UTC)
        result = render(parts.unit_value, snapshot.value, read_at, **params)
    body = current_app.json.response(dump(result)).get_data()
    rendered = Rendered(body, make_etag(body))
    if len(memo) >= MEMO_SIZE:
        memo.clear()
    memo[key] = rendered
    return rendered

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
from functools import lru_cache, wraps
from typing import Any

from flask import current_app, request
from marshmallow import Schema

from fynix.caching import keys
from fynix.caching.decorator import Answer, gate_for, query_validator, respond_answer
from fynix.caching.entries import Entry, make_etag
from fynix.caching.hitrequest import HitRequest
from fynix.caching.hooks import Identity
from fynix.caching.lookup import Lookup
from fynix.caching.manager import Bypass, CacheManager, get_manager
from fynix.caching.namespaces import NAMESPACES
from fynix.caching.responses import bypass, cache_headers
from fynix.caching.shared import Snapshot
from fynix.caching.tokens import TokenGate

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
    derived = DerivedView(prefix, shared, render, schema, unit, query)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            manager = get_manager()
            if request.method not in {"GET", "HEAD"}:
                return bypass(view(*args, **kwargs), manager, prefix, derived.headers)
            try:
                read = derived.read(manager, HitRequest.from_flask(), current_app.json)
                if read is None:  # invalid query: the view answers 422
                    return bypass(view(*args, **kwargs), manager, prefix, derived.headers)
                if read.hit is not None:
                    return respond_answer(read.hit)
                return respond_answer(derived.serve_miss(manager, read, current_app.json))
            except Bypass:
                return bypass(view(*args, **kwargs), manager, prefix, derived.headers)

        wrapper.cache_route = derived
        return wrapper

    return decorator


@lru_cache(maxsize=4096)
def _view_digest(view_items: tuple) -> str:
    return keys.request_digest(dict(view_items), {}, {})


@dataclass
class DerivedRead:
    """The first round trip of a derived request: a HIT, or what the miss path goes on with."""

    params: dict
    req: HitRequest
    gate: TokenGate | None
    admitted: bool
    generation: str | None
    snapshot: Snapshot | None
    lookup: Lookup | None
    entry: Entry | None
    user_id: int | None
    hit: Answer | None = None


class DerivedView:
    """What ``derived_cache`` knows of one view, and the HIT decision shared by both paths."""

    def __init__(
        self,
        prefix: str,
        shared: str,
        render: Callable[..., Any],
        schema: type[Schema],
        unit: UnitSource | None,
        query: type[Schema] | None,
    ) -> None:
        self.prefix, self.shared, self.unit = prefix, shared, unit
        self.render_fn, self.dump = render, schema().dump
        self.validated_query = query_validator(query)
        self.headers = cache_headers(NAMESPACES[prefix].visibility, unit is not None, ())
        self.memo: dict[tuple, Rendered] = {}
        self.vary_headers: tuple[str, ...] = ()

    def read(self, manager: CacheManager, req: HitRequest, json: Any) -> DerivedRead | None:
        """One round trip (plus the stored book once per process and price change); a HIT
        when everything is current and the token admitted. None for an invalid query."""
        query_args = self.validated_query(req.query_string)
        if query_args is None:
            return None
        identity = manager.hooks.identity(req.authorization)
        copy = manager.shared[self.shared]
        lookup = self._lookup(manager, identity, req) if self.unit else None
        gate = gate_for(manager, identity, req.login_required)
        user_keys = [lookup.gen_key, lookup.entry_key] if lookup else []
        user_keys += gate.keys if gate else []
        groups = [[copy.gen_key(manager)], *([user_keys] if user_keys else [])]
        values = manager.call("mget_groups", groups)
        admitted = gate is None or gate.admits(*values[-1][-2:])
        generation = values[0][0].decode("utf-8", "replace") if values[0][0] else None
        snapshot = copy.current(manager, generation)
        entry = lookup.valid(*values[1][:2]) if lookup else None
        user_id = identity.user_id if identity else None
        params = {**req.view_args, **query_args}
        read = DerivedRead(
            params, req, gate, admitted, generation, snapshot, lookup, entry, user_id
        )
        if admitted and snapshot is not None and (lookup is None or entry is not None):
            newest = max(snapshot.cached_at, entry.cached_at if entry else 0.0)
            rendered = self._render(read, snapshot, entry, json)
            read.hit = Answer(rendered.body, rendered.etag, "HIT", self.headers,
                              "application/json", max(0, int(time.time() - newest)),
                              self.prefix, req.if_none_match)  # fmt: skip
            manager.count(self.prefix, "hits")
        return read

    def serve_miss(self, manager: CacheManager, read: DerivedRead, json: Any) -> Answer:
        """Confirm the token if needed (401 when refused), load what is missing, render."""
        if not read.admitted:
            read.gate.confirm()
        snapshot, missed = read.snapshot, not read.admitted
        if snapshot is None:
            snapshot, loaded = manager.shared[self.shared].obtain(manager, read.generation)
            missed = missed or loaded
        entry = read.entry
        if read.lookup is not None and entry is None:
            entry, loaded = self._unit_entry(manager, read)
            missed = missed or loaded
        rendered = self._render(read, snapshot, entry, json)
        manager.count(self.prefix, "misses" if missed else "hits")
        age = None if missed else max(0, int(time.time() - snapshot.cached_at))
        state = "MISS" if missed else "HIT"
        return Answer(rendered.body, rendered.etag, state, self.headers, "application/json",
                      age, self.prefix, read.req.if_none_match)  # fmt: skip

    def _lookup(self, manager: CacheManager, identity: Identity | None, req: HitRequest) -> Lookup:
        scope = keys.scope_of(identity.user_id)
        digest = _view_digest(tuple(sorted(req.view_args.items())))
        return Lookup(
            manager,
            gen_key=keys.gen_key(manager.prefix, self.prefix, scope),
            entry_key=keys.entry_key(manager.prefix, self.prefix, scope, self.unit.name, digest),
            owner=identity.owner,
        )

    def _unit_entry(self, manager: CacheManager, read: DerivedRead) -> tuple[Entry, bool]:
        """(the unit from a peer computing it, or loaded and stored; True when loaded here)."""
        lookup = read.lookup
        try:
            entry = lookup.wait_for_peer()
            if entry is not None:
                return entry, False
            manager.hooks.confirm_identity()
            read_at = time.time()
            body = self.unit.encode(self.unit.load(read.user_id))
            return lookup.keep(body, read_at, manager.ttl_for(self.prefix)), True
        finally:
            lookup.release()

    def _render(
        self, read: DerivedRead, snapshot: Snapshot, entry: Entry | None, json: Any
    ) -> Rendered:
        """Render once per distinct inputs; the same inputs always give the same bytes."""
        unit_key = (entry.owner, entry.generation, entry.cached_at) if entry else None
        view_items = tuple(sorted(read.req.view_args.items()))
        key = (read.req.endpoint, view_items, read.req.query_string, unit_key,
               snapshot.generation, snapshot.cached_at)  # fmt: skip
        found = self.memo.get(key)
        if found is not None:
            return found
        if entry is None:
            result = self.render_fn(snapshot.value, **read.params)
        else:
            read_at = datetime.fromtimestamp(entry.cached_at, UTC)
            unit_value = self.unit.decode(entry.body)
            result = self.render_fn(unit_value, snapshot.value, read_at, **read.params)
        body = json.response(self.dump(result)).get_data()
        rendered = Rendered(body, make_etag(body))
        if len(self.memo) >= MEMO_SIZE:
            self.memo.clear()
        self.memo[key] = rendered
        return rendered

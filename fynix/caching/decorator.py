"""@redis_cache: per-user response caching with generations, a stampede lock and fallback."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any

from flask import Response, current_app, request
from marshmallow import Schema, ValidationError

from fynix.caching import keys
from fynix.caching.entries import Entry
from fynix.caching.hitrequest import HitRequest, query_args
from fynix.caching.hooks import Identity
from fynix.caching.lookup import Lookup
from fynix.caching.manager import Bypass, CacheManager, get_manager
from fynix.caching.namespaces import NAMESPACES
from fynix.caching.responses import bypass, cache_headers, respond
from fynix.caching.tokens import TokenGate


def redis_cache(
    ttl: int | None = None,
    prefix: str = "public",
    vary_on_user: bool = True,
    vary_on_headers: Iterable[str] = (),
    *,
    ttl_setting: str | None = None,
    query: type[Schema] | None = None,
) -> Callable:
    """Cache a GET view's 200 responses under namespace ``prefix``.

    The key holds the namespace, the caller's user id (``vary_on_user``, from the verified
    token), the endpoint, its view args, the *validated* query arguments of ``query`` and
    the ``vary_on_headers``; an entry is served only to the account it was computed for.
    A hit costs one MGET and no SQL. Services invalidate through ``fynix.caching.events``.
    """
    cached = CachedView(prefix, vary_on_user, vary_on_headers, ttl, ttl_setting, query)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            manager = get_manager()
            if request.method not in {"GET", "HEAD"}:
                return bypass(view(*args, **kwargs), manager, prefix, cached.headers)
            req = HitRequest.from_flask(cached.vary_headers)
            try:
                read = cached.read(manager, req, current_app.json)
                if read is None:  # invalid query: the view answers 422
                    return bypass(view(*args, **kwargs), manager, prefix, cached.headers)
                if read.hit is not None:
                    return respond_answer(read.hit)
                return cached.serve_miss(manager, read, lambda: view(*args, **kwargs))
            except Bypass:
                return bypass(view(*args, **kwargs), manager, prefix, cached.headers)

        wrapper.cache_route = cached
        return wrapper

    return decorator


@dataclass(frozen=True)
class Answer:
    """A cached answer, as both the fast path and Flask send it."""

    body: bytes
    etag: str
    state: str
    headers: dict[str, str]
    content_type: str
    age: int | None
    namespace: str
    if_none_match: str


@dataclass
class Read:
    """The first round trip of a request: a HIT, or what the miss path goes on with."""

    lookup: Lookup
    gate: TokenGate | None
    entry: Entry | None
    admitted: bool
    hit: Answer | None = None


class CachedView:
    """What ``redis_cache`` knows of one view, and the HIT decision shared by both paths."""

    def __init__(
        self,
        prefix: str,
        vary_on_user: bool,
        vary_on_headers: Iterable[str],
        ttl: int | None,
        ttl_setting: str | None,
        query: type[Schema] | None,
    ) -> None:
        self.prefix = prefix
        self.namespace = NAMESPACES[prefix]
        self.vary_on_user = vary_on_user
        self.vary_headers = tuple(h.lower() for h in vary_on_headers)
        self.ttl, self.ttl_setting = ttl, ttl_setting
        self.validated_query = query_validator(query)
        self.headers = cache_headers(self.namespace.visibility, vary_on_user, self.vary_headers)

    def read(self, manager: CacheManager, req: HitRequest, json: Any = None) -> Read | None:
        """One round trip; ``Read.hit`` is set when the answer may be served as is (no SQL).

        None when the query is invalid; Bypass when Redis cannot be used.
        """
        args_key = self.validated_query(req.query_string)
        if args_key is None:
            return None
        identity = manager.hooks.identity(req.authorization)
        per_user = self.namespace.per_user and self.vary_on_user and identity is not None
        scope = keys.scope_of(identity.user_id if per_user else None)
        digest = self._digest(
            tuple(sorted(req.view_args.items())), req.query_string, tuple(sorted(req.vary.items()))
        )
        lookup = Lookup(
            manager,
            gen_key=keys.gen_key(manager.prefix, self.prefix, scope),
            entry_key=keys.entry_key(manager.prefix, self.prefix, scope, req.endpoint, digest),
            owner=identity.owner if per_user else None,
        )
        gate = gate_for(manager, identity, req.login_required)
        entry, admitted = lookup.first_read(gate)
        read = Read(lookup, gate, entry, admitted)
        if entry is not None and admitted:
            read.hit = Answer(entry.body, entry.etag, "HIT", self.headers, entry.content_type,
                              entry.age, self.prefix, req.if_none_match)  # fmt: skip
            manager.count(self.prefix, "hits")
        return read

    @lru_cache(maxsize=4096)  # noqa: B019 (views live as long as the process)
    def _digest(self, view_items: tuple, query_string: bytes, vary_items: tuple) -> str:
        """The request digest, computed once per distinct view args, query and headers."""
        query = self.validated_query(query_string)
        return keys.request_digest(dict(view_items), query, dict(vary_items))

    def serve_miss(self, manager: CacheManager, read: Read, compute: Callable) -> Response:
        """Confirm the token if needed (401 when refused), then a peer's entry or ours."""
        confirmed = not read.admitted
        if confirmed:
            read.gate.confirm()
        lookup, entry = read.lookup, read.entry
        if entry is None:
            entry = lookup.wait_for_peer()
        manager.count(self.prefix, "misses" if confirmed or entry is None else "hits")
        if entry is not None:
            state, age = ("MISS", None) if confirmed else ("HIT", entry.age)
            return respond(entry.body, entry.etag, state, self.headers, entry.content_type, age)
        seconds = self.ttl or manager.ttl_for(self.prefix, self.ttl_setting)
        try:
            return lookup.store(current_app.make_response(compute()), seconds, self.headers)
        finally:
            lookup.release()


def gate_for(
    manager: CacheManager, identity: Identity | None, login_required: bool
) -> TokenGate | None:
    """The token check of this request: for answers that need a login (the view is wrapped
    in ``login_required``), never for public ones."""
    if identity is None or not login_required:
        return None
    return TokenGate(manager, identity)


def query_validator(schema_class: type[Schema] | None) -> Callable[[bytes], dict | None]:
    """Raw query string -> allow-listed, normalized arguments (None when invalid: the view
    answers 422). Remembered per query string, since the same few strings repeat."""
    schema = schema_class() if schema_class is not None else None

    @lru_cache(maxsize=1024)
    def validate(query_string: bytes) -> dict | None:
        if schema is None:
            return {}
        args = query_args(query_string)
        if args is None or any(len(args.getlist(name)) > 1 for name in schema.fields):
            return None  # a parameter given twice is a 422 too (fynix.common.inputs)
        try:
            return schema.load(args, unknown="exclude")
        except ValidationError:
            return None

    return validate


def respond_answer(answer: Answer) -> Response:
    """A HIT as a Flask response."""
    return respond(answer.body, answer.etag, answer.state, answer.headers,
                   answer.content_type, answer.age)  # fmt: skip

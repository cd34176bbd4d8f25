"""@redis_cache: per-user response caching with generations, a stampede lock and fallback."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any

from flask import Response, current_app, request
from marshmallow import Schema, ValidationError

from fynix.caching import keys
from fynix.caching.entries import Entry, decode, make_etag
from fynix.caching.hitrequest import HitRequest, query_args
from fynix.caching.hooks import Identity
from fynix.caching.manager import Bypass, CacheManager, get_manager, new_token
from fynix.caching.namespaces import NAMESPACES
from fynix.caching.tokens import TokenGate

LOCK_POLL_SECONDS = 0.02


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


class Lookup:
    """One request's conversation with the store about one entry."""

    def __init__(self, manager: CacheManager, gen_key: str, entry_key: str, owner: str | None):
        self.manager = manager
        self.gen_key = gen_key
        self.entry_key = entry_key
        self.lock_key = keys.lock_key(entry_key)
        self.owner = owner
        self.generation: str | None = None
        self.lock_token: bytes | None = None

    def valid(self, gen_raw: bytes | None, raw: bytes | None) -> Entry | None:
        """The entry when it is current and this caller's; remembers the generation read."""
        # A tampered, non-UTF-8 generation must be a miss, not a 500.
        self.generation = gen_raw.decode("utf-8", "replace") if gen_raw else None
        entry = decode(raw)
        if entry is None or entry.generation != self.generation or entry.owner != self.owner:
            return None
        distrust = self.manager.distrust_before()
        if distrust is not None and entry.cached_at < distrust:
            return None
        return entry

    def fetch(self) -> Entry | None:
        """MGET generation + entry; None when absent or stale."""
        return self.valid(*self.manager.call("mget", [self.gen_key, self.entry_key]))

    def first_read(self, gate: TokenGate | None) -> tuple[Entry | None, bool]:
        """The one round trip of a hit: generation, entry and, for a login-only answer, the
        token's marker and generation; (entry or None, whether the token is admitted)."""
        if gate is None:
            return self.fetch(), True
        if keys.hash_tag(self.gen_key) == keys.hash_tag(gate.keys[0]):
            groups = [[self.gen_key, self.entry_key, *gate.keys]]
        else:
            groups = [[self.gen_key, self.entry_key], gate.keys]
        values = [value for group in self.manager.call("mget_groups", groups) for value in group]
        return self.valid(values[0], values[1]), gate.admits(values[2], values[3])

    def wait_for_peer(self) -> Entry | None:
        """Take the stampede lock, or wait (bounded) while its holder computes.

        Waiters read the lock with the entry: once it is gone without a fresh entry (the
        holder answered a 404, failed, or its lock expired) they stop waiting at once.
        """
        token = uuid.uuid4().hex.encode()
        if self.manager.call("add", self.lock_key, token, self.manager.lock_ttl_ms):
            self.lock_token = token
            # The previous holder may have stored and released between our MGET and SET NX.
            entry = self.fetch()
            if entry is not None:
                self.release()
            elif self.generation is None:
                self.establish()
            return entry
        deadline = time.monotonic() + self.manager.lock_wait
        while time.monotonic() < deadline:
            time.sleep(LOCK_POLL_SECONDS)
            gen_raw, raw, lock = self.manager.call(
                "mget", [self.gen_key, self.entry_key, self.lock_key]
            )
            entry = self.valid(gen_raw, raw)
            if entry is not None or lock is None:
                return entry
        return None

    def establish(self) -> None:
        """Give a scope without a generation (new, or Redis restarted empty) one before
        computing, so that no entry is ever stamped "no generation": such an entry, or a
        process's copy of one, would look current again whenever the generation is lost."""
        token = new_token().encode()
        established = self.manager.call("establish", self.gen_key, token, self.manager.gen_ttl)
        self.generation = established.decode("utf-8", "replace")

    def store(self, response: Response, ttl: int, headers: dict[str, str]) -> Response:
        """Keep a 200 JSON response, stamped with the generation read before computing."""
        if response.status_code != 200 or response.direct_passthrough:
            response.headers["X-Cache"] = "BYPASS"
            return response
        entry = self.keep(response.get_data(), time.time(), ttl, response.mimetype)
        return respond(entry.body, entry.etag, "MISS", headers, response.mimetype, None)

    def keep(self, body: bytes, read_at: float, ttl: int, mimetype: str = "") -> Entry:
        """Store ``body`` stamped with the generation read before computing it (not stored
        without one: see ``establish``)."""
        entry = Entry(self.generation, self.owner, read_at, ttl, make_etag(body), mimetype, body)
        if self.generation is not None:
            with suppress(Bypass):  # still served; the next request tries to store again
                self.manager.call("set", self.entry_key, entry.encode(), ttl)
        return entry

    def release(self) -> None:
        """Release the stampede lock if this request holds it."""
        if self.lock_token is not None:
            token, self.lock_token = self.lock_token, None
            with suppress(Bypass):  # otherwise the lock expires by itself
                self.manager.call("release", self.lock_key, token)


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


@lru_cache(maxsize=64)
def cache_headers(visibility: str, per_user: bool, vary: tuple[str, ...]) -> dict[str, str]:
    """Any HTTP cache may keep the answer but must revalidate it (a HIT answers 304), so no
    browser or proxy ever shows a response the server would no longer serve."""
    headers = {"Cache-Control": f"{visibility}, no-cache"}
    varies = (["Authorization"] if per_user else []) + [h.title() for h in vary]
    if varies:
        headers["Vary"] = ", ".join(varies)
    return headers


def respond_answer(answer: Answer) -> Response:
    """A HIT as a Flask response."""
    return respond(answer.body, answer.etag, answer.state, answer.headers,
                   answer.content_type, answer.age)  # fmt: skip


def respond(body: bytes, etag: str, state: str, headers: dict, mimetype: str, age: int | None):
    """A cached or freshly computed 200, or 304 when the client's ETag matches."""
    not_modified = request.if_none_match.contains_weak(etag.strip('"'))
    response = current_app.response_class(
        b"" if not_modified else body, status=304 if not_modified else 200, mimetype=mimetype
    )
    response.headers.update(headers)
    response.headers["ETag"] = etag
    response.headers["X-Cache"] = state
    if age is not None:
        response.headers["Age"] = str(age)
    return response


def bypass(result: Any, manager: CacheManager, namespace: str, headers: dict) -> Response:
    """Serve straight from the database, marked BYPASS (cache disabled or unreachable)."""
    response = current_app.make_response(result)
    if manager.enabled:
        manager.count(namespace, "bypasses")
    if response.status_code == 200 and not response.direct_passthrough:
        body = response.get_data()
        return respond(body, make_etag(body), "BYPASS", headers, response.mimetype, None)
    response.headers["X-Cache"] = "BYPASS"
    return response

"""Schemas of the cache-management endpoints."""

from marshmallow import Schema, fields, validate


class CacheHealthSchema(Schema):
    """Answer of GET /cache/health."""

    status = fields.String(required=True, validate=validate.OneOf(["ok", "degraded", "down"]))
    backend = fields.String(required=True)
    latency_ms = fields.Float(allow_none=True, required=True)
    breaker = fields.String(
        required=True,
        validate=validate.OneOf(["closed", "open", "half-open"]),
        metadata={"description": "Circuit breaker of the answering process"},
    )
    pending = fields.Integer(
        required=True,
        metadata={"description": "Invalidations the answering process still owes Redis"},
    )
    process = fields.Integer(
        required=True, metadata={"description": "PID of the answering worker process"}
    )


class TotalsSchema(Schema):
    """Counters summed over namespaces."""

    hits = fields.Integer(required=True)
    misses = fields.Integer(required=True)
    bypasses = fields.Integer(required=True)
    errors = fields.Integer(required=True)
    hit_ratio = fields.Float(allow_none=True, required=True)


class NamespaceStatsSchema(TotalsSchema):
    """Counters of one namespace (the totals' fields), its target, size and TTL."""

    target_hit_ratio = fields.Float(allow_none=True, required=True)
    keys = fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "Entries and locks (generation keys excluded); null if down"},
    )
    memory_bytes = fields.Integer(allow_none=True, required=True)
    ttl = fields.Integer(required=True)


class RedisStateSchema(Schema):
    """Backend status and memory."""

    status = fields.String(required=True)
    backend = fields.String(required=True)
    latency_ms = fields.Float(allow_none=True, required=True)
    used_memory_bytes = fields.Integer(allow_none=True, required=True)


class BreakerSchema(Schema):
    """Circuit breaker of the answering process."""

    state = fields.String(required=True)
    failures = fields.Integer(required=True)
    pending_invalidations = fields.Integer(required=True)


class CacheStatsSchema(Schema):
    """Answer of GET /cache/stats."""

    namespaces = fields.Dict(
        keys=fields.String(), values=fields.Nested(NamespaceStatsSchema), required=True
    )
    totals = fields.Nested(TotalsSchema, required=True)
    redis = fields.Nested(RedisStateSchema, required=True)
    breaker = fields.Nested(BreakerSchema, required=True)


class DeletedSchema(Schema):
    """How many keys were deleted."""

    deleted = fields.Integer(required=True)


class WarmedSchema(Schema):
    """How many entries were warmed."""

    warmed = fields.Integer(required=True)


class WarmArgsSchema(Schema):
    """Optional ?users=N: how many recently active users to warm."""

    users = fields.Integer(validate=validate.Range(min=0, max=10_000))

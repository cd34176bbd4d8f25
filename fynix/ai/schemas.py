"""Schemas of assistant interactions, threads and the prompt input."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from fynix.common.fields import NOT_BLANK_PATTERN, FullMatch, UTCDateTimeField
from fynix.common.inputs import CLIENT_ID_PATTERN
from fynix.common.pagination import PaginationArgsSchema

ID_RE = f"^{CLIENT_ID_PATTERN}$"  # the same shape the thread path converter accepts
MAX_PROMPT = 4000


def _client_id(description: str) -> fields.String:
    return fields.String(
        load_default=None,
        allow_none=True,
        validate=FullMatch(ID_RE, "1-64 characters: letters, digits, '_', '-'."),
        metadata={"description": description, "pattern": ID_RE},
    )


class InteractionCreateSchema(Schema):
    """Body of POST /api/ai/interactions."""

    prompt = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=MAX_PROMPT),
            FullMatch(NOT_BLANK_PATTERN, "Must not be blank (nor contain NUL)."),
        ],
        metadata={"example": "What is my largest holding?", "pattern": NOT_BLANK_PATTERN},
    )
    session_id = _client_id(
        "The client's session; a new one when omitted (the thread's when continuing one)"
    )
    thread_id = _client_id("Continue this thread of mine; a new thread when omitted")

    @post_load
    def strip_prompt(self, data: dict, **kwargs: Any) -> dict:
        """Surrounding whitespace is not part of the question."""
        data["prompt"] = data["prompt"].strip()
        return data


class InteractionSchema(Schema):
    """One prompt and the assistant's answer."""

    id = fields.Integer(required=True)
    session_id = fields.String(required=True)
    thread_id = fields.String(required=True)
    prompt = fields.String(required=True)
    response = fields.String(required=True)
    created_at = UTCDateTimeField(required=True)


class ThreadListArgsSchema(PaginationArgsSchema):
    """Query arguments of GET /api/ai/threads."""


class ThreadSchema(Schema):
    """A thread in the list: its span, size and a title taken from its first prompt."""

    thread_id = fields.String(required=True)
    session_id = fields.String(required=True)
    started_at = UTCDateTimeField(required=True)
    last_activity_at = UTCDateTimeField(required=True)
    interactions_count = fields.Integer(required=True)
    title = fields.String(required=True, metadata={"description": "First prompt, 80 chars max"})


class ThreadDetailSchema(Schema):
    """GET /api/ai/threads/<thread_id>: the interactions, oldest first."""

    thread_id = fields.String(required=True)
    session_id = fields.String(required=True)
    interactions = fields.List(fields.Nested(InteractionSchema), required=True)

"""Schemas of notifications, their list filters and the admin's send form."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from fynix.common.fields import NOT_BLANK_PATTERN, FullMatch, UTCDateTimeField
from fynix.common.ids import MAX_ID
from fynix.common.pagination import PaginationArgsSchema

TYPE_RE = r"^[a-z0-9_.\-]{1,32}$"


def _type_field(description: str = "", **kwargs: Any) -> fields.String:
    return fields.String(
        validate=FullMatch(TYPE_RE, "1-32 characters: lowercase letters, digits, '_', '.', '-'."),
        metadata={"example": "price_alert", "pattern": TYPE_RE, "description": description},
        **kwargs,
    )


def _text_field(max_length: int) -> fields.String:
    return fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=max_length),
            FullMatch(NOT_BLANK_PATTERN, "Must not be blank (nor contain NUL)."),
        ],
        metadata={"pattern": NOT_BLANK_PATTERN},
    )


class NotificationSchema(Schema):
    """A notification as its recipient sees it."""

    id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    type = fields.String(required=True, metadata={"example": "price_alert"})
    title = fields.String(required=True)
    body = fields.String(required=True)
    is_read = fields.Boolean(required=True)
    created_at = UTCDateTimeField(required=True)
    read_at = UTCDateTimeField(allow_none=True)


class NotificationListArgsSchema(PaginationArgsSchema):
    """Query of GET /api/notifications: ``?unread=true|false``, ``?type=``, pagination."""

    unread = fields.Boolean(
        truthy={"true"},
        falsy={"false"},
        metadata={"description": "true: only unread; false: only read (exactly these words)"},
    )
    type = _type_field("Only notifications of this type")


class NotificationCreateSchema(Schema):
    """Body of POST /api/notifications (admin): deliver a message to one user."""

    user_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    type = _type_field("What kind of message this is", required=True)
    title = _text_field(200)
    body = _text_field(5000)

    @post_load
    def strip_text(self, data: dict, **kwargs: Any) -> dict:
        """Surrounding whitespace is never part of a title or body."""
        data["title"] = data["title"].strip()
        data["body"] = data["body"].strip()
        return data


class UnreadCountSchema(Schema):
    """Answer of GET /api/notifications/unread-count."""

    unread_count = fields.Integer(required=True)


class ReadAllResultSchema(Schema):
    """Answer of POST /api/notifications/read-all: how many turned read."""

    updated = fields.Integer(required=True)

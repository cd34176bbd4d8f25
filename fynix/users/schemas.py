"""Schemas of the user resource and of registration/profile input."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from fynix.common.fields import UTCDateTimeField

USERNAME_RE = r"^[a-z0-9_.\-]{3,32}$"


class UserSchema(Schema):
    """A user as the API shows it (never the password hash)."""

    id = fields.Integer(required=True)
    email = fields.Email(required=True)
    username = fields.String(required=True)
    is_admin = fields.Boolean(required=True)
    created_at = UTCDateTimeField(required=True)


def _normalize(data: dict) -> dict:
    for key in ("email", "username"):
        if key in data:
            data[key] = data[key].strip().lower()
    return data


class _Identity(Schema):
    email = fields.Email(validate=validate.Length(max=254))
    username = fields.String(
        validate=validate.Regexp(
            USERNAME_RE,
            error="3-32 characters: lowercase letters, digits, '_', '.', '-'.",
        )
    )

    @post_load
    def normalize(self, data: dict, **kwargs: Any) -> dict:
        """Emails and usernames are stored lower-case, so lookups are exact."""
        return _normalize(data)


class RegisterSchema(_Identity):
    """Body of POST /api/auth/register."""

    email = fields.Email(required=True, validate=validate.Length(max=254))
    username = fields.String(
        required=True,
        validate=validate.Regexp(
            USERNAME_RE,
            error="3-32 characters: lowercase letters, digits, '_', '.', '-'.",
        ),
    )
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=8, max=256)
    )


class UserUpdateSchema(_Identity):
    """Body of PATCH /api/users/me: change username and/or email."""

    @validates_schema
    def require_something(self, data: dict, **kwargs: Any) -> None:
        """An empty patch is a client mistake."""
        if not data:
            raise ValidationError("Give email and/or username.", "_schema")

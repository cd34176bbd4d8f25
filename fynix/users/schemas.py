"""Schemas of the user resource and of registration/profile input."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from fynix.auth.schemas import secret
from fynix.common.fields import FullMatch, UTCDateTimeField

USERNAME_RE = r"^[a-z0-9_.\-]{3,32}$"
USERNAME_ERROR = "3-32 characters: lowercase letters, digits, '_', '.', '-'."


def _username(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=FullMatch(USERNAME_RE, USERNAME_ERROR),
        metadata={"pattern": USERNAME_RE, "example": "ada"},
        **kwargs,
    )


def _email(**kwargs: Any) -> fields.Email:
    return fields.Email(
        validate=validate.Length(max=254), metadata={"example": "ada@example.com"}, **kwargs
    )


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
    email = _email()
    username = _username()

    @post_load
    def normalize(self, data: dict, **kwargs: Any) -> dict:
        """Emails and usernames are stored lower-case, so lookups are exact."""
        return _normalize(data)


class RegisterSchema(_Identity):
    """Body of POST /api/auth/register."""

    email = _email(required=True)
    username = _username(required=True)
    password = secret(8, "8-256 characters")


class UserUpdateSchema(_Identity):
    """Body of PATCH /api/users/me: change username and/or email."""

    @validates_schema
    def require_something(self, data: dict, **kwargs: Any) -> None:
        """An empty patch is a client mistake."""
        if not data:
            raise ValidationError("Give email and/or username.", "_schema")

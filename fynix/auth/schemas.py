"""Schemas of login input and the token answer."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema


class LoginSchema(Schema):
    """Body of POST /api/auth/login: login is an email or a username."""

    login = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))


class TokenSchema(Schema):
    """A bearer token and its lifetime in seconds."""

    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True)


class PasswordChangeSchema(Schema):
    """Body of POST /api/auth/password."""

    current_password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=256)
    )
    new_password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=8, max=256)
    )

    @validates_schema
    def differs(self, data: dict, **kwargs: Any) -> None:
        """A new password that equals the current one changes nothing: a client mistake."""
        if data.get("new_password") and data.get("new_password") == data.get("current_password"):
            raise ValidationError("Must differ from the current password.", "new_password")

"""Schemas of login input and the token answer."""

from marshmallow import Schema, fields, validate

from fynix.common.fields import TEXT_PATTERN, FullMatch

NO_NUL = FullMatch(TEXT_PATTERN, "Must not contain NUL (\\u0000) characters.")


def secret(min_length: int, description: str) -> fields.String:
    """A password field: write-only, its length bounded, no NUL (documented as a pattern)."""
    return fields.String(
        required=True,
        load_only=True,
        validate=[validate.Length(min=min_length, max=256), NO_NUL],
        metadata={"pattern": TEXT_PATTERN, "description": description},
    )


class LoginSchema(Schema):
    """Body of POST /api/auth/login: login is an email or a username."""

    login = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=254), NO_NUL],
        metadata={"pattern": TEXT_PATTERN, "description": "Email or username"},
    )
    password = secret(0, "The account's password")


class TokenSchema(Schema):
    """A bearer token and its lifetime in seconds."""

    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True)


class PasswordChangeSchema(Schema):
    """Body of POST /api/auth/password."""

    current_password = secret(1, "The password in use now (403 when wrong)")
    new_password = secret(8, "8-256 characters, different from the current password (else 422)")

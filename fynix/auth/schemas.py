"""Schemas of login input and the token answer."""

from marshmallow import Schema, fields, validate


class LoginSchema(Schema):
    """Body of POST /api/auth/login: login is an email or a username."""

    login = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))


class TokenSchema(Schema):
    """A bearer token and its lifetime in seconds."""

    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True)

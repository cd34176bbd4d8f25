"""/api/auth: register and login (the only API routes without a token)."""

from __future__ import annotations

from flask import current_app

from fynix.auth import services
from fynix.auth.schemas import LoginSchema, TokenSchema
from fynix.common.api import Blueprint, ErrorSchema
from fynix.extensions import limiter
from fynix.users.schemas import RegisterSchema, UserSchema
from fynix.users.services import create_user

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Register and log in")


def _limit(setting: str):
    return limiter.limit(
        lambda: current_app.config[setting],
        exempt_when=lambda: not current_app.config["RATELIMIT_ENABLED"],
    )


@blp.post("/register")
@_limit("RATELIMIT_REGISTER")
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
@blp.alt_response(409, schema=ErrorSchema, description="The email or username is taken")
@blp.alt_response(429, schema=ErrorSchema, description="Too many attempts; see Retry-After")
@blp.doc(security=[])
def register(data: dict):
    """Create an account."""
    return create_user(data["email"], data["username"], data["password"])


@blp.post("/login")
@_limit("RATELIMIT_LOGIN")
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Invalid login or password")
@blp.alt_response(429, schema=ErrorSchema, description="Too many attempts; see Retry-After")
@blp.doc(security=[])
def login(data: dict):
    """Exchange a login (email or username) and password for a bearer token."""
    return services.login(data["login"], data["password"])

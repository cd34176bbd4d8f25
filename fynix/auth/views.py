"""/api/auth: register and log in (no token needed), change the password and log out."""

from __future__ import annotations

from flask import current_app

from fynix.auth import services
from fynix.auth.guard import bearer_claims, current_user, login_required
from fynix.auth.schemas import LoginSchema, PasswordChangeSchema, TokenSchema
from fynix.common.api import Blueprint, ErrorSchema
from fynix.extensions import limiter
from fynix.users.schemas import RegisterSchema, UserSchema
from fynix.users.services import create_user

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")


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


@blp.post("/password")
@login_required
@_limit("RATELIMIT_LOGIN")
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@blp.alt_response(403, schema=ErrorSchema, description="The current password is wrong")
@blp.alt_response(429, schema=ErrorSchema, description="Too many attempts; see Retry-After")
def change_password(data: dict):
    """Change my password; every token issued before, this one included, stops working."""
    services.change_password(current_user(), data["current_password"], data["new_password"])


@blp.post("/logout")
@login_required
@blp.response(204)
def logout():
    """End this token now (it is refused afterwards, cached answers included)."""
    services.logout(current_user(), bearer_claims())

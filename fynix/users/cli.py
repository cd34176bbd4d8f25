"""``flask --app wsgi users ...``: account administration from a terminal."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from marshmallow import ValidationError

from fynix.caching.cli import writes_data
from fynix.errors import Conflict, describe_validation
from fynix.users.schemas import RegisterSchema
from fynix.users.services import create_user

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--username", required=True)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted (hidden, twice) when omitted.",
)
@writes_data
def create_admin(email: str, username: str, password: str) -> None:
    """Create an administrator account (exit 1 when invalid or already taken)."""
    try:
        data = RegisterSchema().load({"email": email, "username": username, "password": password})
    except ValidationError as exc:
        raise click.ClickException(f"Invalid input: {describe_validation(exc.messages)}") from None
    try:
        user = create_user(data["email"], data["username"], data["password"], is_admin=True)
    except Conflict as exc:
        raise click.ClickException(f"{exc.message} (conflict: nothing was created)") from None
    click.echo(f"Created admin {user.username} <{user.email}> (id {user.id}).")

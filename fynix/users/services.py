"""Account rules: creation, lookup by login, profile changes."""

from __future__ import annotations

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from fynix.auth.passwords import hash_password
from fynix.caching import events
from fynix.errors import Conflict
from fynix.extensions import db
from fynix.users.models import User

# Spelled out so SQLite matches the partial index idx_users_email (it does not infer
# "email IS NOT NULL" from "email = ?" on a NOT NULL column).
EMAIL_PRESENT = User.email.is_not(None)


def _check_free(email: str | None, username: str | None, exclude_id: int | None = None) -> None:
    conditions = []
    if email:
        conditions.append(and_(User.email == email, EMAIL_PRESENT))
    if username:
        conditions.append(User.username == username)
    if not conditions:
        return
    statement = select(User.email, User.username).where(or_(*conditions))
    if exclude_id is not None:
        statement = statement.where(User.id != exclude_id)
    taken = db.session.execute(statement).first()
    if taken is not None:
        field = "email" if email and taken.email == email else "username"
        raise Conflict(f"That {field} is already taken.", errors={field: ["Already taken."]})


def create_user(email: str, username: str, password: str, *, is_admin: bool = False) -> User:
    """Create an account; 409 when the email or username is taken."""
    _check_free(email, username)
    user = User(
        email=email, username=username, password_hash=hash_password(password), is_admin=is_admin
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("That email or username is already taken.") from None
    events.accounts_created([user.id])
    return user


def login_stmt(login: str) -> Select:
    """The user whose email (``login`` has an @) or username is ``login``, any case."""
    value = login.strip().lower()
    statement = select(User).options(undefer(User.security_stamp))  # the token carries it
    if "@" in value:
        return statement.where(User.email == value, EMAIL_PRESENT)
    return statement.where(User.username == value)


def find_by_login(login: str) -> User | None:
    """The user whose email or username is ``login`` (case-insensitive input)."""
    return db.session.scalar(login_stmt(login))


def update_profile(user: User, changes: dict) -> User:
    """Change email and/or username; 409 when taken by someone else."""
    _check_free(changes.get("email"), changes.get("username"), exclude_id=user.id)
    for key, value in changes.items():
        setattr(user, key, value)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("That email or username is already taken.") from None
    events.user_changed(user.id)
    return user


def set_admin(user: User, is_admin: bool) -> User:
    """Grant or revoke the admin role."""
    user.is_admin = is_admin
    db.session.commit()
    events.user_changed(user.id)
    return user

"""Flask-WTF forms of the admin pages; every POST form carries a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SearchField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from fynix.notifications.schemas import TYPE_RE


def _strip(value: str | None) -> str | None:
    """Surrounding whitespace is never part of a title or a message."""
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    """Username or email, password, and the admin page to go back to."""

    login = StringField("Username or email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class ActionForm(FlaskForm):
    """A button whose only data is the CSRF token and the page to return to."""

    return_to = HiddenField()


class WarmForm(FlaskForm):
    """Warm the cache, optionally for fewer recently active users than configured."""

    users = IntegerField(
        "Recently active users (blank: configured default)",
        validators=[Optional(), NumberRange(min=0, max=100_000)],
    )


class PatternForm(FlaskForm):
    """A glob pattern of this application's cache keys; ``confirm`` marks the second step."""

    pattern = StringField(
        "Key pattern (glob, inside this app's prefix)",
        validators=[DataRequired(), Length(max=200)],
    )
    confirm = HiddenField()


class UpgradeForm(FlaskForm):
    """Upgrade the schema to head, only with the box ticked."""

    confirm = BooleanField(
        "I have a backup and want to upgrade the schema to head",
        validators=[DataRequired("Tick the confirmation box to upgrade the schema.")],
    )


class UserSearchForm(FlaskForm):
    """Query-string search of the users page (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField("Username or email contains", validators=[Optional(), Length(max=100)])
    page = IntegerField(default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])


class NotificationForm(FlaskForm):
    """A message to one user, with the limits of the notifications API."""

    type = StringField(
        "Type",
        default="system",
        validators=[
            DataRequired(),
            Regexp(TYPE_RE, message="1-32 characters: lowercase letters, digits, '_', '.', '-'."),
        ],
    )
    title = StringField("Title", filters=[_strip], validators=[DataRequired(), Length(max=200)])
    body = TextAreaField("Message", filters=[_strip], validators=[DataRequired(), Length(max=5000)])
    return_to = HiddenField()

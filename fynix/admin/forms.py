"""Flask-WTF forms of the admin pages; every POST form carries a CSRF token."""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    SearchField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from fynix.common.inputs import text_problem
from fynix.notifications.schemas import TYPE_RE


def _strip(value: str | None) -> str | None:
    """Surrounding whitespace is never part of a title or a message."""
    return value.strip() if isinstance(value, str) else value


def storable_text(_form: FlaskForm, field: Field) -> None:
    """What was submitted for ``field`` is text the database can store (no NUL)."""
    for value in field.raw_data or ():
        problem = text_problem(value) if isinstance(value, str) else None
        if problem:
            raise ValidationError(problem)


class Form(FlaskForm):
    """Base of every admin form: each field refuses unstorable text, whatever its own rules."""

    def validate(self, extra_validators: dict | None = None) -> bool:
        """Run each field's validators plus ``storable_text``."""
        extra = {name: [storable_text] for name in self._fields}
        for name, validators in (extra_validators or {}).items():
            extra[name] = [*extra.get(name, []), *validators]
        return super().validate(extra)


def flash_errors(form: FlaskForm) -> None:
    """Show each field error of ``form`` as a flash message naming the field."""
    for field in form:
        for error in field.errors:
            flash(f"{field.label.text}: {error}", "error")


class LoginForm(Form):
    """Username or email, password, and the admin page to go back to."""

    login = StringField("Username or email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class ActionForm(Form):
    """A button whose only data is the CSRF token and the page to return to."""

    return_to = HiddenField()


class WarmForm(Form):
    """Warm the cache, optionally for fewer recently active users than configured."""

    users = IntegerField(
        "Recently active users (blank: configured default)",
        validators=[Optional(), NumberRange(min=0, max=100_000)],
    )


class PatternForm(Form):
    """A glob pattern of this application's cache keys; ``confirm`` marks the second step."""

    pattern = StringField(
        "Key pattern (glob, inside this app's prefix)",
        validators=[DataRequired(), Length(max=200)],
    )
    confirm = HiddenField()


class UpgradeForm(Form):
    """Upgrade the schema to head, only with the box ticked."""

    confirm = BooleanField(
        "I have a backup and want to upgrade the schema to head",
        validators=[DataRequired("Tick the confirmation box to upgrade the schema.")],
    )


class UserSearchForm(Form):
    """Query-string search of the users page (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField("Username or email contains", validators=[Optional(), Length(max=100)])
    page = IntegerField(default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])


class NotificationForm(Form):
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

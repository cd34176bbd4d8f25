"""Admin login and logout (session cookie), with rate-limited login attempts."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from fynix.admin import blp
from fynix.admin.forms import ActionForm, LoginForm
from fynix.admin.guard import log_in, log_out, safe_next
from fynix.auth.passwords import verify_password
from fynix.extensions import limiter
from fynix.users.services import find_by_login

DEFAULT_LOGIN_LIMIT = "5 per minute"


def _login_limit() -> str:
    return current_app.config.get("ADMIN_LOGIN_RATELIMIT") or DEFAULT_LOGIN_LIMIT


def _limits_off() -> bool:
    return not current_app.config.get("RATELIMIT_ENABLED", True)


@blp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], exempt_when=_limits_off)
def login():
    """Show the login form; on success start the session and go back to the page asked for."""
    form = LoginForm()
    if not form.is_submitted():
        form.next.data = safe_next(request.args.get("next")) or ""
        return render_template("admin/login.html", form=form)
    if not form.validate():
        return render_template("admin/login.html", form=form), 400
    user = find_by_login(form.login.data)
    # Verify even for an unknown login, so timing does not tell which part was wrong.
    if not verify_password(user.password_hash if user else None, form.password.data) or not user:
        flash("Invalid login or password.", "error")
        return render_template("admin/login.html", form=form), 401
    log_in(user)
    if user.is_admin:  # a non-admin is shown the 403 page instead
        flash(f"Signed in as {user.username}.", "success")
    return redirect(safe_next(form.next.data) or url_for("admin.show_dashboard"))


@blp.post("/logout")
def logout():
    """End the admin session (a POST with its CSRF token, so no other site can log you out)."""
    if ActionForm().validate_on_submit():
        log_out()
        flash("Signed out.", "success")
    return redirect(url_for("admin.login"))

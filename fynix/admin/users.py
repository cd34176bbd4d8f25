"""Users page: search and paginate, grant or revoke admin, send a notification."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from fynix.admin import blp, services
from fynix.admin.forms import ActionForm, NotificationForm, UserSearchForm, flash_errors
from fynix.admin.guard import safe_next
from fynix.notifications.services import send_notification
from fynix.users.services import set_admin


@blp.get("/users")
def list_users():
    """Users whose username or email contains the search, 20 per page, with their counts."""
    form = UserSearchForm(formdata=request.args)
    if not form.validate():
        flash_errors(form)
    search = form.q.data if not form.q.errors else None
    page = form.page.data if form.page.data and not form.page.errors else 1
    result = services.list_users(search, page)
    pages = max(1, -(-result.total // result.per_page))
    return render_template(
        "admin/users.html",
        form=form,
        result=result,
        pages=pages,
        search=search or "",
        action_form=ActionForm(formdata=None),
    )


def _change_role(user_id: int, is_admin: bool):
    """Grant or revoke admin for someone else; nobody changes their own role here."""
    form = ActionForm()
    back = safe_next(form.return_to.data) or url_for("admin.list_users")
    user = services.get_user(user_id)
    if not form.validate_on_submit():
        return redirect(back)
    if user.id == g.admin_user.id:
        flash("You cannot change your own admin role.", "error")
        return redirect(back)
    set_admin(user, is_admin)
    state = "now an administrator" if is_admin else "no longer an administrator"
    flash(f"{user.username} is {state}.", "success")
    return redirect(back)


@blp.post("/users/<int:user_id>/grant-admin")
def grant_admin(user_id: int):
    """Make a user an administrator."""
    return _change_role(user_id, True)


@blp.post("/users/<int:user_id>/revoke-admin")
def revoke_admin(user_id: int):
    """Take the administrator role away from a user."""
    return _change_role(user_id, False)


@blp.route("/users/<int:user_id>/notify", methods=["GET", "POST"])
def notify_user(user_id: int):
    """Send a notification through the notifications service (visible in the API at once)."""
    user = services.get_user(user_id)
    form = NotificationForm()
    if not form.is_submitted():
        form.return_to.data = request.args.get("return_to", "")
    back = safe_next(form.return_to.data) or url_for("admin.list_users")
    if form.validate_on_submit():
        sent = send_notification(user.id, form.type.data, form.title.data, form.body.data)
        flash(f"Sent notification #{sent.id} “{sent.title}” to {user.username}.", "success")
        return redirect(back)
    status = 400 if form.is_submitted() else 200
    return render_template("admin/notify.html", user=user, form=form, back=back), status

"""Cache page: warm, clear all, clear by pattern (preview first), TTLs in force."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, url_for

from fynix.admin import blp
from fynix.admin.forms import ActionForm, PatternForm, WarmForm, flash_errors
from fynix.caching import manage
from fynix.caching.manager import Bypass

UNREACHABLE = "The cache backend is unreachable; nothing was changed. Retry when it is back."


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


def _flash_outcome(action: Callable[[], int], done: str) -> None:
    """Run a cache action and flash how many entries it touched, or that nothing changed
    because the backend is unreachable (the admin retries; no 500 page)."""
    try:
        count = action()
    except Bypass:
        flash(UNREACHABLE, "error")
    else:
        flash(done.format(_plural(count, "entry", "entries")), "success")


def render_cache_page(
    pattern_form: PatternForm | None = None, preview: dict | None = None, status: int = 200
):
    """The cache page, optionally showing a pattern preview awaiting confirmation."""
    stats = manage.get_stats(strict=False)
    return render_template(
        "admin/cache.html",
        ttls=manage.ttl_table(),
        keys={name: row.get("keys") for name, row in stats["namespaces"].items()},
        cache_down=stats["redis"]["status"] == "down",
        warm_form=WarmForm(formdata=None),
        clear_form=ActionForm(formdata=None),
        pattern_form=pattern_form or PatternForm(formdata=None),
        preview=preview,
    ), status


@blp.get("/cache")
def show_cache():
    """TTLs and key counts per namespace, with the cache actions."""
    return render_cache_page()


@blp.post("/cache/warm")
def warm_cache():
    """Pre-populate shared data and the most recently active users' entries."""
    form = WarmForm()
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("admin.show_cache"))
    _flash_outcome(lambda: manage.warm(limit_users=form.users.data), "Warmed {}.")
    return redirect(url_for("admin.show_cache"))


@blp.post("/cache/clear")
def clear_cache():
    """Drop every entry of this application (nothing else in the Redis database)."""
    if ActionForm().validate_on_submit():
        _flash_outcome(manage.clear_all, "Deleted {}.")
    return redirect(url_for("admin.show_cache"))


@blp.post("/cache/pattern")
def clear_cache_pattern():
    """First submit previews how many keys match; the confirmed submit deletes them."""
    form = PatternForm()
    if not form.validate_on_submit():
        return render_cache_page(form, status=400)
    pattern = form.pattern.data
    try:
        if form.confirm.data != "yes":
            preview = {"pattern": pattern, "count": manage.count_pattern(pattern)}
            return render_cache_page(form, preview)
        deleted = manage.clear_pattern(pattern)
    except ValueError as exc:
        form.pattern.errors = [str(exc)]
        return render_cache_page(form, status=400)
    except Bypass:
        flash(UNREACHABLE, "error")
        return redirect(url_for("admin.show_cache"))
    flash(f"Deleted {_plural(deleted, 'entry', 'entries')} matching {pattern}.", "success")
    return redirect(url_for("admin.show_cache"))

"""Assistant rules: ask a question in a thread, list threads, show one thread."""

from __future__ import annotations

import uuid
from dataclasses import replace

from flask import current_app
from sqlalchemy import Row, Select, func, select

from fynix.ai.models import AIInteraction
from fynix.ai.providers import PortfolioContext, get_provider
from fynix.caching import events
from fynix.common.pagination import Page, paginate
from fynix.errors import Conflict, NotFound
from fynix.extensions import db
from fynix.portfolio.services import get_summary

TITLE_LENGTH = 80


def build_context(user_id: int) -> PortfolioContext:
    """The user's portfolio, valued by the portfolio service, for the assistant."""
    return PortfolioContext.from_summary(get_summary(user_id))


def ask_assistant(
    user_id: int, prompt: str, session_id: str | None = None, thread_id: str | None = None
) -> AIInteraction:
    """Answer ``prompt`` and record it in a new thread, or in ``thread_id`` when given.

    Continuing a thread keeps its session: an omitted session_id means the thread's
    own, a different one is a 409 (well formed, but the thread's state forbids it). A
    thread that is unknown or someone else's is a 404.
    """
    if thread_id is None:
        thread_id = uuid.uuid4().hex
        session_id = session_id or uuid.uuid4().hex
    else:
        session_id = _continue_session(user_id, thread_id, session_id)
    context = build_context(user_id)
    # End the read transaction so no pooled connection waits on a slow remote provider.
    db.session.commit()
    response = get_provider(current_app.config).answer(prompt, context)
    interaction = AIInteraction(
        user_id=user_id,
        session_id=session_id,
        thread_id=thread_id,
        prompt=prompt,
        response=response,
    )
    db.session.add(interaction)
    db.session.commit()
    events.ai_changed(user_id)
    return interaction


def _continue_session(user_id: int, thread_id: str, session_id: str | None) -> str:
    """The session of the user's thread ``thread_id`` (404), checked against ``session_id``."""
    thread_session = db.session.scalar(
        select(AIInteraction.session_id)
        .where(AIInteraction.user_id == user_id, AIInteraction.thread_id == thread_id)
        .order_by(AIInteraction.created_at, AIInteraction.id)
        .limit(1)
    )
    if thread_session is None:
        raise NotFound("Thread not found.")
    if session_id is not None and session_id != thread_session:
        raise Conflict(
            f"This thread belongs to another session ({thread_session}): "
            "omit session_id or send that one."
        )
    return thread_session


def threads_page_stmt(user_id: int) -> Select:
    """The user's threads, most recently active first (one GROUP BY): what list_threads pages."""
    last_activity = func.max(AIInteraction.created_at)
    return (
        select(
            AIInteraction.thread_id,
            func.min(AIInteraction.id).label("first_id"),
            func.min(AIInteraction.created_at).label("started_at"),
            last_activity.label("last_activity_at"),
            func.count().label("interactions_count"),
        )
        .where(AIInteraction.user_id == user_id)
        .group_by(AIInteraction.thread_id)
        .order_by(last_activity.desc(), func.max(AIInteraction.id).desc())
    )


def list_threads(user_id: int, page: int, per_page: int) -> Page:
    """The user's threads, most recently active first: one GROUP BY, one query for titles."""
    result = paginate(threads_page_stmt(user_id), page, per_page, scalars=False)
    first = _first_interactions([row.first_id for row in result.items])
    items = [
        {
            "thread_id": row.thread_id,
            "session_id": first[row.first_id].session_id,
            "started_at": row.started_at,
            "last_activity_at": row.last_activity_at,
            "interactions_count": row.interactions_count,
            "title": " ".join(first[row.first_id].prompt.split())[:TITLE_LENGTH],
        }
        for row in result.items
    ]
    return replace(result, items=items)


def _first_interactions(ids: list[int]) -> dict[int, Row]:
    """id -> (id, session_id, prompt) of the given interactions (not their responses)."""
    if not ids:
        return {}
    statement = select(AIInteraction.id, AIInteraction.session_id, AIInteraction.prompt).where(
        AIInteraction.id.in_(ids)
    )
    return {row.id: row for row in db.session.execute(statement)}


def thread_stmt(user_id: int, thread_id: str) -> Select:
    """The user's interactions in ``thread_id``, oldest first (what get_thread runs)."""
    return (
        select(AIInteraction)
        .where(AIInteraction.user_id == user_id, AIInteraction.thread_id == thread_id)
        .order_by(AIInteraction.created_at, AIInteraction.id)
    )


def get_thread(user_id: int, thread_id: str) -> dict:
    """The user's thread with its interactions oldest first; 404 when not theirs."""
    interactions = list(db.session.scalars(thread_stmt(user_id, thread_id)))
    if not interactions:
        raise NotFound("Thread not found.")
    return {
        "thread_id": thread_id,
        "session_id": interactions[0].session_id,
        "interactions": interactions,
    }

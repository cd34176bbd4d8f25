"""/api/ai: ask the portfolio assistant, and read back the caller's threads."""

from __future__ import annotations

from flask.views import MethodView

from fynix.ai import services
from fynix.ai.schemas import (
    InteractionCreateSchema,
    InteractionSchema,
    ThreadDetailSchema,
    ThreadListArgsSchema,
    ThreadSchema,
)
from fynix.auth.guard import current_user_id, login_required
from fynix.caching.presets import cache_ai_responses
from fynix.common.api import Blueprint, ErrorSchema
from fynix.common.pagination import page_schema

blp = Blueprint("ai", __name__, url_prefix="/api/ai", description="Portfolio assistant")


@blp.route("/interactions")
class Interactions(MethodView):
    """Questions to the assistant."""

    @login_required
    @blp.arguments(InteractionCreateSchema)
    @blp.response(201, InteractionSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="thread_id unknown or someone else's")
    @blp.alt_response(409, schema=ErrorSchema, description="The thread has another session_id")
    @blp.alt_response(503, schema=ErrorSchema, description="The remote assistant is unavailable")
    def post(self, data: dict):
        """Ask a question, in a new thread or continuing one of mine (404 if not mine)."""
        return services.ask_assistant(current_user_id(), **data)


@blp.route("/threads")
class Threads(MethodView):
    """The caller's conversation threads."""

    @login_required
    @cache_ai_responses(query=ThreadListArgsSchema)
    @blp.arguments(ThreadListArgsSchema, location="query")
    @blp.response(200, page_schema(ThreadSchema))
    def get(self, args: dict):
        """List my threads, most recently active first."""
        return services.list_threads(current_user_id(), **args)


@blp.route("/threads/<client_id:thread_id>")
class Thread(MethodView):
    """One of the caller's threads."""

    @login_required
    @cache_ai_responses()
    @blp.response(200, ThreadDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Unknown, or someone else's")
    def get(self, thread_id: str):
        """Show one of my threads, its interactions oldest first."""
        return services.get_thread(current_user_id(), thread_id)

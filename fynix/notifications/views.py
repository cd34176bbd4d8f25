"""/api/notifications: the caller's notifications, and sending one (admin)."""

from __future__ import annotations

from flask.views import MethodView

from fynix.auth.guard import admin_required, current_user_id, login_required
from fynix.caching.presets import cache_notifications
from fynix.common.api import Blueprint, ErrorSchema
from fynix.common.pagination import page_schema
from fynix.notifications import services
from fynix.notifications.schemas import (
    NotificationCreateSchema,
    NotificationListArgsSchema,
    NotificationSchema,
    ReadAllResultSchema,
    UnreadCountSchema,
)

blp = Blueprint(
    "notifications", __name__, url_prefix="/api/notifications", description="Notifications"
)


@blp.route("")
class Notifications(MethodView):
    """The caller's notifications; admins also send them."""

    @login_required
    @cache_notifications(query=NotificationListArgsSchema)
    @blp.arguments(NotificationListArgsSchema, location="query")
    @blp.response(200, page_schema(NotificationSchema))
    def get(self, args: dict):
        """List my notifications, newest first (filters: unread, type)."""
        return services.list_notifications(current_user_id(), **args)

    @admin_required
    @blp.arguments(NotificationCreateSchema)
    @blp.response(201, NotificationSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Not an administrator")
    @blp.alt_response(404, schema=ErrorSchema, description="No user with this user_id")
    def post(self, data: dict):
        """Send a notification to a user (admin); an unknown user_id is 404."""
        return services.send_notification(**data)


@blp.route("/unread-count")
class UnreadCount(MethodView):
    """How many of the caller's notifications are unread."""

    @login_required
    @cache_notifications(ttl_setting="CACHE_TTL_UNREAD_COUNT")
    @blp.response(200, UnreadCountSchema)
    def get(self):
        """Count my unread notifications."""
        return {"unread_count": services.count_unread(current_user_id())}


@blp.route("/read-all")
class ReadAll(MethodView):
    """Mark every notification of the caller read."""

    @login_required
    @blp.response(200, ReadAllResultSchema)
    def post(self):
        """Mark all my notifications read; answers how many changed."""
        return {"updated": services.mark_all_read(current_user_id())}


@blp.route("/<int:notification_id>/read")
class NotificationRead(MethodView):
    """Mark one notification read."""

    @login_required
    @blp.response(200, NotificationSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Unknown, or someone else's")
    def post(self, notification_id: int):
        """Mark one of my notifications read (idempotent)."""
        return services.mark_read(current_user_id(), notification_id)


@blp.route("/<int:notification_id>")
class NotificationItem(MethodView):
    """One of the caller's notifications."""

    @login_required
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="Unknown, or someone else's")
    def delete(self, notification_id: int):
        """Delete one of my notifications."""
        services.delete_notification(current_user_id(), notification_id)

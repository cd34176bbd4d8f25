"""/api/users: the caller's own profile."""

from __future__ import annotations

from flask.views import MethodView

from fynix.auth.guard import current_user, login_required
from fynix.caching.presets import cache_user_data
from fynix.common.api import Blueprint, ErrorSchema
from fynix.users import services
from fynix.users.schemas import UserSchema, UserUpdateSchema

blp = Blueprint("users", __name__, url_prefix="/api/users", description="The caller's profile")


@blp.route("/me")
class Me(MethodView):
    """The authenticated user's profile."""

    @login_required
    @cache_user_data()
    @blp.response(200, UserSchema)
    def get(self):
        """Show my profile."""
        return current_user()

    @login_required
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="The email or username is taken")
    def patch(self, changes: dict):
        """Change my username or email."""
        return services.update_profile(current_user(), changes)

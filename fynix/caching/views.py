"""Cache management endpoints (admin only)."""

from flask_smorest import Blueprint

blp = Blueprint("caching", __name__, url_prefix="/cache", description="Cache management")

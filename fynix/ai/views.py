"""/api/ai endpoints."""

from flask_smorest import Blueprint

blp = Blueprint("ai", __name__, url_prefix="/api/ai", description="Ai")

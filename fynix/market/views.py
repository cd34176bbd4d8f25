"""/api/market endpoints."""

from flask_smorest import Blueprint

blp = Blueprint("market", __name__, url_prefix="/api/market", description="Market")

"""/api/portfolio endpoints."""

from flask_smorest import Blueprint

blp = Blueprint("portfolio", __name__, url_prefix="/api/portfolio", description="Portfolio")

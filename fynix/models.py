"""Every model in one import, for Alembic's autogenerate and for tests."""

from fynix.ai.models import AIInteraction
from fynix.auth.models import RevokedToken
from fynix.market.feed.models import FeedStatus
from fynix.market.models import Quote
from fynix.notifications.models import Notification
from fynix.portfolio.models import Position
from fynix.users.models import User

__all__ = [
    "AIInteraction",
    "FeedStatus",
    "Notification",
    "Position",
    "Quote",
    "RevokedToken",
    "User",
]

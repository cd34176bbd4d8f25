"""Unbound extension instances, bound to the app in create_app()."""

from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from fynix.common.api import FynixApi

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations are stable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
cache = Cache()
api = FynixApi()
csrf = CSRFProtect()
# Limits live in REDIS_URL's Redis (shared by every worker and node) or in memory; what
# happens when that Redis fails is configured in create_app (RATELIMIT_FAIL_CLOSED).
# Headers give clients X-RateLimit-* and, on a 429, Retry-After.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)

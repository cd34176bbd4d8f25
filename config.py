"""Configuration classes; every setting can be overridden from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable ("1/true/yes/on" are true)."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """Read an integer environment variable."""
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name: str, default: float) -> float:
    """Read a float environment variable (timeouts, never money)."""
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'fynix.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False
    JSON_SORT_KEYS = False
    # Flask refuses a larger body with 413 before reading it (chunked ones once they pass it).
    MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 1024 * 1024)

    # Redis / cache
    REDIS_URL = os.environ.get("REDIS_URL") or None
    REDIS_CLUSTER_NODES = os.environ.get("REDIS_CLUSTER_NODES") or None
    REDIS_SENTINELS = os.environ.get("REDIS_SENTINELS") or None
    REDIS_SENTINEL_MASTER = os.environ.get("REDIS_SENTINEL_MASTER", "mymaster")
    CACHE_ENABLED = env_bool("CACHE_ENABLED", True)
    CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "fynix")
    REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 0.25)
    REDIS_CONNECT_TIMEOUT = env_float("REDIS_CONNECT_TIMEOUT", 0.25)
    REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 64)
    CACHE_BREAKER_THRESHOLD = env_int("CACHE_BREAKER_THRESHOLD", 3)
    CACHE_BREAKER_COOLDOWN = env_float("CACHE_BREAKER_COOLDOWN", 5.0)
    CACHE_TTL_PORTFOLIO = env_int("CACHE_TTL_PORTFOLIO", 300)
    CACHE_TTL_NOTIFICATIONS = env_int("CACHE_TTL_NOTIFICATIONS", 120)
    CACHE_TTL_UNREAD_COUNT = env_int("CACHE_TTL_UNREAD_COUNT", 60)
    CACHE_TTL_MARKET = env_int("CACHE_TTL_MARKET", 60)
    CACHE_TTL_AI = env_int("CACHE_TTL_AI", 900)
    CACHE_TTL_PUBLIC = env_int("CACHE_TTL_PUBLIC", 1800)
    CACHE_TTL_USER = env_int("CACHE_TTL_USER", 600)
    CACHE_WARM_USERS = env_int("CACHE_WARM_USERS", 100)
    # Without Redis: the folder of the generation table shared by this host's processes
    # (default: the instance folder).
    CACHE_LOCAL_DIR = os.environ.get("CACHE_LOCAL_DIR") or None
    # Answer cache HITs of static GET routes before Flask dispatches (same answer, cheaper).
    CACHE_FAST_PATH = env_bool("CACHE_FAST_PATH", True)
    # How long a CLI command retries delivering its invalidations before it fails.
    CACHE_CLI_DELIVERY_TIMEOUT = env_float("CACHE_CLI_DELIVERY_TIMEOUT", 10.0)

    # Auth
    ACCESS_TOKEN_TTL = env_int("ACCESS_TOKEN_TTL", 3600)
    ARGON2_TIME_COST = env_int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = env_int("ARGON2_MEMORY_COST", 65536)
    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute")
    RATELIMIT_REGISTER = os.environ.get("RATELIMIT_REGISTER", "5 per minute")
    # When the limits' Redis is unreachable: false (default) keeps limiting per process in
    # memory; true refuses rate-limited requests with 503 until it answers again.
    RATELIMIT_FAIL_CLOSED = env_bool("RATELIMIT_FAIL_CLOSED", False)

    # AI assistant
    AI_PROVIDER = os.environ.get("AI_PROVIDER", "local")
    AI_API_BASE = os.environ.get("AI_API_BASE", "")
    AI_API_KEY = os.environ.get("AI_API_KEY", "")
    AI_MODEL = os.environ.get("AI_MODEL", "gpt-4o-mini")
    AI_TIMEOUT = env_float("AI_TIMEOUT", 20.0)

    # OpenAPI (flask-smorest)
    API_TITLE = "Fynix API"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/api/docs/static/"

    # Sessions (admin pages)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=env_int("ADMIN_SESSION_HOURS", 12))
    ADMIN_LOGIN_RATELIMIT = os.environ.get("ADMIN_LOGIN_RATELIMIT", "5 per minute")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    WTF_CSRF_TIME_LIMIT = None

    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    METRICS_ENABLED = env_bool("METRICS_ENABLED", True)  # false: no per-request metrics
    CACHE_LOCK_TTL_MS = env_int("CACHE_LOCK_TTL_MS", 5000)
    CACHE_LOCK_WAIT = env_float("CACHE_LOCK_WAIT", 2.0)

    # Number of trusted proxies (load balancers) in front of the app: their X-Forwarded-*
    # headers give the client address used by rate limits. 0 trusts none.
    PROXY_FIX_X_FOR = env_int("PROXY_FIX_X_FOR", 0)

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    LOG_JSON = env_bool("LOG_JSON", True)


class DevelopmentConfig(Config):
    """Local development: embedded SQLite, in-process cache unless REDIS_URL is set."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret-change-me")


class TestingConfig(Config):
    """Test runs: a database per test session is chosen by tests/conftest.py."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-with-enough-length-0123456789"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    REDIS_URL = None  # the embedded default; tests that need Redis ask for it (redis_app)
    REDIS_CLUSTER_NODES = None
    REDIS_SENTINELS = None
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8192
    RATELIMIT_ENABLED = False
    LOG_JSON = True


class ProductionConfig(Config):
    """Production: SECRET_KEY is mandatory, cookies are Secure."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True

    @classmethod
    def validate(cls) -> None:
        """Refuse to start without the settings production cannot guess."""
        if not cls.SECRET_KEY or len(cls.SECRET_KEY) < 16:
            raise RuntimeError("SECRET_KEY must be set (16+ characters) in production")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """Pick the configuration class named by FYNIX_ENV (default: development)."""
    name = os.environ.get("FYNIX_ENV", "development").strip().lower()
    if name not in CONFIGS:
        raise RuntimeError(f"FYNIX_ENV must be one of {sorted(CONFIGS)}, got {name!r}")
    return CONFIGS[name]

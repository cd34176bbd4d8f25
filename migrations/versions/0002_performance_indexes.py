"""Performance indexes: the 12 indexes behind Fynix's hot queries, then ANALYZE.

Three of them are unique (email, username, one position per user and symbol):
a unique index is also the lookup index, so uniqueness lives here rather than in a
second, redundant index. Downgrading below this revision drops them too; only the
benchmark harness does that, on its own database.

Revision ID: 0002_performance_indexes
Revises: 0001_schema
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_performance_indexes"
down_revision = "0001_schema"
branch_labels = None
depends_on = None

UNREAD = {"sqlite_where": sa.text("is_read = 0"), "postgresql_where": sa.text("is_read = false")}
EMAIL_PRESENT = {
    "sqlite_where": sa.text("email IS NOT NULL"),
    "postgresql_where": sa.text("email IS NOT NULL"),
}

# (name, table, columns, options); the hot query each serves is in docs/indexes.md.
INDEXES = [
    ("idx_notifications_user_unread", "notifications", ["user_id", "is_read"], UNREAD),
    ("idx_notifications_user_unread_created", "notifications", ["user_id", "created_at"], UNREAD),
    ("idx_notifications_user_created", "notifications", ["user_id", "created_at"], {}),
    (
        "idx_notifications_user_type_created",
        "notifications",
        ["user_id", "type", "created_at"],
        {},
    ),
    ("idx_notifications_type_created", "notifications", ["type", "created_at"], {}),
    ("idx_users_email", "users", ["email"], {"unique": True, **EMAIL_PRESENT}),
    ("idx_users_username", "users", ["username"], {"unique": True}),
    (
        "idx_portfolio_positions_user_symbol",
        "portfolio_positions",
        ["user_id", "symbol"],
        {"unique": True},
    ),
    ("idx_portfolio_positions_symbol", "portfolio_positions", ["symbol"], {}),
    ("idx_ai_interactions_user_session", "ai_interactions", ["user_id", "session_id"], {}),
    ("idx_ai_interactions_thread_created", "ai_interactions", ["thread_id", "created_at"], {}),
    ("idx_ai_interactions_user_created", "ai_interactions", ["user_id", "created_at"], {}),
]


def upgrade() -> None:
    """Create the indexes and refresh the planner's statistics."""
    for name, table, columns, options in INDEXES:
        op.create_index(name, table, columns, **options)
    op.execute("ANALYZE")


def downgrade() -> None:
    """Drop exactly the indexes created above."""
    for name, table, _columns, _options in reversed(INDEXES):
        op.drop_index(name, table_name=table)

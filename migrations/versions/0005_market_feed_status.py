"""market_feed_status: one row per quote feed, so every web worker can show its progress.

The feed runs in a process of its own (`flask --app wsgi market feed`); it updates its row in
the same transaction as each batch it writes, and /metrics reads the rows.

Revision ID: 0005_market_feed_status
Revises: 0004_revoked_tokens
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_market_feed_status"
down_revision = "0004_revoked_tokens"
branch_labels = None
depends_on = None


def _counter(name: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "market_feed_status",
        sa.Column("name", sa.String(64), nullable=False),
        _counter("batches_total"),
        _counter("quotes_total"),
        _counter("skipped_total"),
        sa.Column("last_batch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_lag_seconds", sa.Float(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_market_feed_status"),
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("market_feed_status")

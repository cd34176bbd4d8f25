"""revoked_tokens: bearer tokens ended by a logout, until they would have expired.

Revision ID: 0004_revoked_tokens
Revises: 0003_security_stamp
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_revoked_tokens"
down_revision = "0003_security_stamp"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table (small: only logged-out tokens, until they expire)."""
    op.create_table(
        "revoked_tokens",
        sa.Column("token_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_revoked_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_revoked_tokens")),
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("revoked_tokens")

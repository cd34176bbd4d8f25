"""users.security_stamp: a random value per account, carried by its tokens.

A token names its account by id *and* stamp, so an id reused after a database is restored
or reseeded never lets an old token, or an answer cached for the old account, reach the new
one. Existing accounts get a random stamp each (their earlier tokens stop working).

Revision ID: 0003_security_stamp
Revises: 0002_performance_indexes
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_security_stamp"
down_revision = "0002_performance_indexes"
branch_labels = None
depends_on = None

# 16 random hex characters per row, in each dialect's own SQL (fixed text, no input).
FILL_STAMPS = {
    "postgresql": "UPDATE users SET security_stamp = "
    "substr(md5(random()::text || clock_timestamp()::text || id::text), 1, 16)",
    "sqlite": "UPDATE users SET security_stamp = lower(hex(randomblob(8)))",
}


def upgrade() -> None:
    """Add the column, give every existing account a random stamp, then require it."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("security_stamp", sa.String(16), nullable=True))
    op.execute(FILL_STAMPS[op.get_bind().dialect.name])
    with op.batch_alter_table("users") as batch:
        batch.alter_column("security_stamp", existing_type=sa.String(16), nullable=False)


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("security_stamp")

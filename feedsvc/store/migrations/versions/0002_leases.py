"""Leases: which process is refreshing a source, and until when.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("lease_holder", sa.Text))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime))
    op.create_index("ix_sources_next_run_at", "sources", ["next_run_at"])
    # The version stamp row exists from the start, so concurrent writers
    # only ever UPDATE it (two first INSERTs would collide).
    op.execute("INSERT INTO store_state (key, value) SELECT 'version', 0 "
               "WHERE NOT EXISTS (SELECT 1 FROM store_state WHERE key = 'version')")


def downgrade() -> None:
    op.drop_index("ix_sources_next_run_at", "sources")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_holder")

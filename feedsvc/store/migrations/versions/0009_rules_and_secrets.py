"""Items blocked by rules, counted per source; and secrets every process
of one store shares (the image proxy's signing key when no
FEEDSVC_SECRET_KEY is set).

Revision ID: 0009_rules_and_secrets
Revises: 0008_recipe_fingerprints
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_rules_and_secrets"
down_revision = "0008_recipe_fingerprints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("blocked_items", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "store_secrets",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_store_secrets"),
    )


def downgrade() -> None:
    op.drop_table("store_secrets")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("blocked_items")

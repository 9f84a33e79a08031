"""The schema feedsvc used before it had migrations.

A database created then (by create_all) has these tables and no
alembic_version; feedsvc stamps it with this revision and upgrades on.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("next_run_at", sa.DateTime),
        sa.Column("last_attempt_at", sa.DateTime),
        sa.Column("last_success_at", sa.DateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_kind", sa.String(32)),
        sa.Column("last_error_at", sa.DateTime),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("guid", sa.String(128), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("body_html", sa.Text),
        sa.Column("author", sa.Text),
        sa.Column("outlet", sa.Text),
        sa.Column("editors", sa.JSON, nullable=False),
        sa.Column("image_url", sa.Text),
        sa.Column("search_text", sa.Text),
        sa.Column("author_keys", sa.Text),
        sa.Column("published_at", sa.DateTime),
        sa.Column("published_precision", sa.String(8)),
        sa.Column("detail", sa.Integer, nullable=False),
        sa.Column("first_seen_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("sort_at", sa.DateTime, nullable=False),
        sa.Column("gone_at", sa.DateTime),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint("guid", name="uq_items_guid"),
        sa.UniqueConstraint("url", name="uq_items_url"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name="fk_items_source_id_sources"),
    )
    op.create_index("ix_items_sort", "items", ["sort_at", "id"])
    op.create_index("ix_items_outlet_sort", "items", ["outlet", "sort_at", "id"])
    op.create_index("ix_items_source_sort", "items", ["source_id", "sort_at", "id"])
    op.create_table(
        "http_validators",
        sa.Column("url", sa.Text),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("checked_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("url", name="pk_http_validators"),
    )
    op.create_table(
        "store_state",
        sa.Column("key", sa.String(64)),
        sa.Column("value", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_store_state"),
    )


def downgrade() -> None:
    for table in ("store_state", "http_validators", "items", "sources"):
        op.drop_table(table)

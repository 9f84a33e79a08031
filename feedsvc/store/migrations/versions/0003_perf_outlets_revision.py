"""Outlet statistics kept as items change, and a per-item revision.

`outlet_stats` holds what the outlet directory shows (visible items, the
newest one's time, the first item id and the slug), so reading it no longer
reads every item. `items.revision` moves on every change to an item, so a
rendered entry can be reused until its item changes.

Revision ID: 0003_perf
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_perf"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("revision", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "outlet_stats",
        sa.Column("name", sa.Text),
        sa.Column("slug", sa.Text),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("latest", sa.DateTime),
        sa.Column("first_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_outlet_stats"),
    )
    # One pass over the items, once; from here on the store keeps it.
    op.execute("INSERT INTO outlet_stats (name, item_count, latest, first_id) "
               "SELECT outlet, SUM(CASE WHEN gone_at IS NULL THEN 1 ELSE 0 END), "
               "MAX(CASE WHEN gone_at IS NULL THEN sort_at END), MIN(id) "
               "FROM items WHERE outlet IS NOT NULL GROUP BY outlet")
    from feedsvc.core.outlets import slugify

    bind = op.get_bind()
    stats = sa.table("outlet_stats", sa.column("name", sa.Text), sa.column("slug", sa.Text))
    for (name,) in bind.execute(sa.select(stats.c.name)).all():
        bind.execute(sa.update(stats).where(stats.c.name == name).values(slug=slugify(name)))


def downgrade() -> None:
    op.drop_table("outlet_stats")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("revision")

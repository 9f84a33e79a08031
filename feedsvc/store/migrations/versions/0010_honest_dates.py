"""Entry dates readers trust, one outlet per item, feed ids the operator owns.

- `items.changed_at`: the last change of title, summary or body after the
  item was first seen. An older feedsvc moved `updated_at` on such a change
  (and set it to first seen otherwise), so a row whose `updated_at` is past
  its first-seen time changed then. `updated_at` becomes the later of the
  published time (first seen when the page gave none) and `changed_at`:
  an unchanged 2019 item says 2019 in both.
- `published_precision = 'seen'` marks the items whose shown time is the
  time they were first seen.
- `items.author_email`: a feed author's address, kept apart from the name.
- Items without an outlet take their source's name, so the outlet feeds
  together hold every item once.
- `store_settings`: text facts about the store. A store that existed
  before this revision keeps the tagging authority its feed ids had
  (`feedsvc,2026`) until the operator sets FEEDSVC_FEED_ID_AUTHORITY.

Revision ID: 0010_honest_dates
Revises: 0009_rules_and_secrets
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0010_honest_dates"
down_revision = "0009_rules_and_secrets"
branch_labels = None
depends_on = None

LEGACY_AUTHORITY = "feedsvc,2026"  # what every feed id used before


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("changed_at", sa.DateTime))
        batch.add_column(sa.Column("author_email", sa.Text))
    op.create_table(
        "store_settings",
        sa.Column("key", sa.String(64)),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_store_settings"),
    )
    op.execute("UPDATE items SET changed_at = updated_at WHERE updated_at > first_seen_at")
    op.execute("UPDATE items SET published_precision = 'seen' WHERE published_at IS NULL")
    op.execute("UPDATE items SET updated_at = CASE "
               "WHEN changed_at IS NOT NULL AND changed_at > COALESCE(published_at, first_seen_at) THEN changed_at "
               "ELSE COALESCE(published_at, first_seen_at) END")
    op.create_index("ix_items_updated_at", "items", ["updated_at"])
    bind = op.get_bind()
    _separate_updated(bind)
    orphans = bind.execute(sa.text("SELECT COUNT(*) FROM items WHERE outlet IS NULL")).scalar_one()
    if orphans:
        op.execute("UPDATE items SET outlet = (SELECT name FROM sources WHERE sources.id = items.source_id), "
                   "revision = revision + 1 WHERE outlet IS NULL")
        # The source now names its own outlet (see 0007_outlet_slugs).
        op.execute("INSERT INTO source_outlets (source_id, outlet) SELECT DISTINCT source_id, outlet FROM items "
                   "WHERE outlet IS NOT NULL AND NOT EXISTS (SELECT 1 FROM source_outlets "
                   "WHERE source_outlets.source_id = items.source_id AND source_outlets.outlet = items.outlet)")
        from feedsvc.store import outlet_stats

        outlet_stats.rebuild(bind)
    existing = bind.execute(sa.text("SELECT COUNT(*) FROM sources")).scalar_one()
    if existing:
        op.execute(sa.text("INSERT INTO store_settings (key, value) VALUES ('feed_id_authority', :value)")
                   .bindparams(value=LEGACY_AUTHORITY))


def _separate_updated(bind) -> None:
    """No two items share one updated second (as feedsvc.store.store keeps it
    from now on): a later item of a shared second moves to the next free one."""
    table = sa.table("items", sa.column("id", sa.Integer), sa.column("updated_at", sa.DateTime))
    rows = bind.execute(sa.select(table.c.id, table.c.updated_at).order_by(table.c.updated_at, table.c.id)).all()
    last = None
    for item_id, original in rows:
        value = original.replace(microsecond=0)
        if last is not None and value <= last:
            value = last + timedelta(seconds=1)
        if value != original:
            bind.execute(sa.update(table).where(table.c.id == item_id).values(updated_at=value))
        last = value


def downgrade() -> None:
    op.drop_index("ix_items_updated_at", "items")
    op.drop_table("store_settings")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("author_email")
        batch.drop_column("changed_at")

"""Publication times outside the plausible window are cleared.

An older feedsvc stored whatever date a page or feed gave: year 1, year
9999. Such a time overflows when shown in its source's zone, and sorted
first it was always the newest item, which retention could never prune.
The rows stay; their publication time goes, as if the page had given none
(what feedsvc now does at the door, see feedsvc.core.times): the item sorts by
when it was first seen, its revision moves (a rendered entry is not
reused), the outlet statistics' newest time is counted again and the
store's version moves, so caches of every process notice.

Revision ID: 0006_plausible_times
Revises: 0005_bigram_index
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

from feedsvc.core.times import EARLIEST, latest

revision = "0006_plausible_times"
down_revision = "0005_bigram_index"
branch_labels = None
depends_on = None

items = sa.table("items", sa.column("published_at", sa.DateTime), sa.column("published_precision", sa.String),
                 sa.column("sort_at", sa.DateTime), sa.column("first_seen_at", sa.DateTime),
                 sa.column("revision", sa.Integer), sa.column("outlet", sa.Text), sa.column("gone_at", sa.DateTime))
outlet_stats = sa.table("outlet_stats", sa.column("name", sa.Text), sa.column("latest", sa.DateTime))
store_state = sa.table("store_state", sa.column("key", sa.String), sa.column("value", sa.Integer))


def _naive_utc(value: datetime) -> datetime:
    # The store keeps UTC without a zone on both backends.
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def upgrade() -> None:
    bind = op.get_bind()
    earliest, last = _naive_utc(EARLIEST), _naive_utc(latest(datetime.now(timezone.utc)))
    outside = sa.or_(items.c.published_at < earliest, items.c.published_at > last)
    cleared = bind.execute(sa.update(items).where(outside).values(
        published_at=None, published_precision=None, sort_at=items.c.first_seen_at,
        revision=items.c.revision + 1)).rowcount
    if not cleared:
        return
    newest = (sa.select(sa.func.max(items.c.sort_at))
              .where(items.c.outlet == outlet_stats.c.name, items.c.gone_at.is_(None)).scalar_subquery())
    bind.execute(sa.update(outlet_stats).values(latest=newest))
    bind.execute(sa.update(store_state).where(store_state.c.key == "version").values(value=store_state.c.value + 1))


def downgrade() -> None:
    pass  # the cleared times were never right: nothing to put back

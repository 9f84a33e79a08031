"""Outlet slugs kept for good, one outlet each; the outlets each source names.

Until now the stored slug was each name's romanization, and the outlet
directory made them unique as it was built: in the order outlets first
appeared, a slug already given out took -2, -3, …. That is what every
served link was, so this migration writes exactly those slugs (outlets
with visible items first, as only they were in the directory; then the
others), and a unique index keeps them apart from now on. The outlet
seen first keeps a slug two outlets shared.

source_outlets starts with every (source, outlet) pair the items hold.

Revision ID: 0007_outlet_slugs
Revises: 0006_plausible_times
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_outlet_slugs"
down_revision = "0006_plausible_times"
branch_labels = None
depends_on = None

_STATS = sa.table("outlet_stats", sa.column("name", sa.Text), sa.column("slug", sa.Text),
                  sa.column("item_count", sa.Integer), sa.column("first_id", sa.Integer))


def _unique_slugs(rows) -> dict[str, str]:
    """name → slug, as the outlet directory gave them out."""
    from feedsvc.core.outlets import slugify

    taken: set[str] = set()
    slugs = {}
    for name, slug, count, first_id in sorted(rows, key=lambda r: (not r[2] or r[2] <= 0, r[3], r[0])):
        base = candidate = slug or slugify(name)
        number = 2
        while candidate in taken:
            candidate, number = f"{base}-{number}", number + 1
        taken.add(candidate)
        slugs[name] = candidate
    return slugs


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_STATS.c.name, _STATS.c.slug, _STATS.c.item_count, _STATS.c.first_id)).all()
    stored = {row[0]: row[1] for row in rows}
    for name, slug in _unique_slugs(rows).items():
        if slug != stored[name]:
            bind.execute(sa.update(_STATS).where(_STATS.c.name == name).values(slug=slug))
    op.create_index("ux_outlet_stats_slug", "outlet_stats", ["slug"], unique=True)
    op.create_table(
        "source_outlets",
        sa.Column("source_id", sa.Text, primary_key=True),
        sa.Column("outlet", sa.Text, primary_key=True),
    )
    op.execute("INSERT INTO source_outlets (source_id, outlet) "
               "SELECT DISTINCT source_id, outlet FROM items WHERE outlet IS NOT NULL")


def downgrade() -> None:
    op.drop_table("source_outlets")
    op.drop_index("ux_outlet_stats_slug", table_name="outlet_stats")

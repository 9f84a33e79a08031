"""Recipe fingerprints on stored validators, and what each source read.

http_validators.recipe_fingerprint: the recipe that read the page. A
validator stored under another fingerprint is not sent, so the first fetch
after a recipe edit is a full one (rows from before this revision have
none, and are fetched in full once).

sources.read_stats: from the source's last refresh that read pages, how
many fields came from selectors and how many from the extractor, per
field, and how many linked pages (full_text) failed.

Revision ID: 0008_recipe_fingerprints
Revises: 0007_outlet_slugs
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_recipe_fingerprints"
down_revision = "0007_outlet_slugs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("http_validators") as batch:
        batch.add_column(sa.Column("recipe_fingerprint", sa.String(32)))
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("read_stats", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("read_stats")
    with op.batch_alter_table("http_validators") as batch:
        batch.drop_column("recipe_fingerprint")

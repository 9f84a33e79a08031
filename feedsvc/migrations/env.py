"""Alembic environment: feedsvc always hands in an open connection (see
feedsvc.migrate), so there is no offline mode and no alembic.ini."""

from alembic import context

from feedsvc.migrate import in_schema
from feedsvc.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, include_name=in_schema,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()

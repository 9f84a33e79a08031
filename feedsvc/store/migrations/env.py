"""Alembic environment: feedsvc always hands in an open connection (see
feedsvc.store.migrate), so there is no offline mode and no alembic.ini."""

import logging
from pathlib import Path

from alembic import context

from feedsvc.store.migrate import in_schema
from feedsvc.store.schema import metadata

log = logging.getLogger("feedsvc.store.migrate")


def _applied(*, step, **_kwargs) -> None:
    # One line per migration (Alembic's own lines are quieted in feedsvc.core.logs).
    script = step.up_revision
    log.info("migration_%s revision=%s from=%s name=%s", "stamped" if step.is_stamp else "applied",
             step.up_revision_id, ",".join(step.down_revision_ids) or "-",
             Path(script.path).stem if script is not None else "-")


connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, include_name=in_schema,
                  render_as_batch=connection.dialect.name == "sqlite", on_version_apply=_applied)
with context.begin_transaction():
    context.run_migrations()

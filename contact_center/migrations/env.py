"""Alembic environment: runs on the connection handed over by contact_center.db.migrate."""

from alembic import context

import contact_center.account_schema  # noqa: F401 - registers its tables on Base.metadata
import contact_center.handoff_schema  # noqa: F401 - registers its tables on Base.metadata
import contact_center.routing_corrections  # noqa: F401 - registers its table
from contact_center.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through contact_center.db.migrate
    raise RuntimeError("run migrations through contact_center.db.migrate()")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

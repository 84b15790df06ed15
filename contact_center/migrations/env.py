"""Alembic environment: runs on the connection handed over by contact_center.db.migrate."""

from alembic import context

import contact_center.agents.schema  # noqa: F401 - each import registers its tables on Base.metadata
import contact_center.conversation.schema  # noqa: F401
import contact_center.gru.schema  # noqa: F401
import contact_center.handoffs.schema  # noqa: F401
import contact_center.kb_admin.routing_corrections  # noqa: F401
import contact_center.kb_admin.schema  # noqa: F401
from contact_center.db import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through contact_center.db.migrate
    raise RuntimeError("run migrations through contact_center.db.migrate()")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

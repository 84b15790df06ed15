"""Explanation records say where the request was routed and what the assistant did.

Revision ID: 0003_record_routing
Revises: 0002_cases
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_record_routing"
down_revision = "0002_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("explanation_records") as batch:
        batch.add_column(sa.Column("routing", sa.JSON, nullable=True))
        batch.add_column(sa.Column("action", sa.String(32), nullable=True))
        batch.add_column(sa.Column("case_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("explanation_records") as batch:
        batch.drop_column("case_id")
        batch.drop_column("action")
        batch.drop_column("routing")

"""The fault a turn went through, in its explanation record (e.g. the database lost mid-turn).

Revision ID: 0013_record_fault
Revises: 0012_agent_suggestions
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_record_fault"
down_revision = "0012_agent_suggestions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("explanation_records", sa.Column("fault", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("explanation_records", "fault")

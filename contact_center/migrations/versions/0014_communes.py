"""The communes this instance serves, created by an administrator without editing settings.

Revision ID: 0014_communes
Revises: 0013_record_fault
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_communes"
down_revision = "0013_record_fault"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "communes",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("communes")

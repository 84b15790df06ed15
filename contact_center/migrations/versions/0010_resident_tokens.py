"""Conversations keep the hash of their resident's credential (the resident token).

Revision ID: 0010_resident_tokens
Revises: 0009_record_search
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_resident_tokens"
down_revision = "0009_record_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("resident_token_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("resident_token_hash")

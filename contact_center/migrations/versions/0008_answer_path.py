"""Explanation records say which path made the answer shown (validated, extractive, generated)
and why the generated one was not shown when it was not.

Revision ID: 0008_answer_path
Revises: 0007_kb_admin
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_answer_path"
down_revision = "0007_kb_admin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("explanation_records") as batch:
        batch.add_column(sa.Column("answer_path", sa.String(16), nullable=True))
        batch.add_column(sa.Column("path_reason", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("explanation_records") as batch:
        batch.drop_column("path_reason")
        batch.drop_column("answer_path")

"""Explanation records say what was searched: the query (for a follow-up, with the topic of the
question it follows), whether the question was a follow-up, and the documents it favoured.

Revision ID: 0009_record_search
Revises: 0008_answer_path
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_record_search"
down_revision = "0008_answer_path"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("explanation_records") as batch:
        batch.add_column(sa.Column("searched_query", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("followup", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("context_documents", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("explanation_records") as batch:
        batch.drop_column("context_documents")
        batch.drop_column("followup")
        batch.drop_column("searched_query")

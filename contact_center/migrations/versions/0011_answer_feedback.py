"""Residents' feedback on answers, kept with each answer's explanation record.

Revision ID: 0011_answer_feedback
Revises: 0010_resident_tokens
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_answer_feedback"
down_revision = "0010_resident_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_feedback",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "record_id",
            sa.String(32),
            sa.ForeignKey("explanation_records.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("message_id", sa.String(32), nullable=False),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("answer_feedback")

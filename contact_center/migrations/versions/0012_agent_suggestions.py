"""Replies suggested to agents in the console, and whether they sent them.

Revision ID: 0012_agent_suggestions
Revises: 0011_answer_feedback
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_agent_suggestions"
down_revision = "0011_answer_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_suggestions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column(
            "handoff_id",
            sa.String(32),
            sa.ForeignKey("handoffs.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("agent_id", sa.String(32), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("message_id", sa.String(32), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("agent_suggestions")

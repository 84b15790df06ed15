"""Agents' corrections of the routing: labelled examples for the request classifier.

Revision ID: 0006_routing_corrections
Revises: 0005_handoffs
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_routing_corrections"
down_revision = "0005_handoffs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routing_corrections",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
        sa.Column("record_id", sa.String(32), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("previous_service", sa.String(64), nullable=True),
        sa.Column("agent_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("routing_corrections")

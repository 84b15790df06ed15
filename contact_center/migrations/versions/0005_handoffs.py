"""Handoffs to agents (queue per service) and who wrote each message.

Revision ID: 0005_handoffs
Revises: 0004_accounts
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_handoffs"
down_revision = "0004_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(32), nullable=True),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(32), nullable=True),
        sa.Column("case_id", sa.String(32), nullable=True),
        sa.Column("csat", sa.Integer, nullable=True),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_handoffs_queue", "handoffs", ["tenant_id", "status", "service"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("author_id", sa.String(32), nullable=True))
    with op.batch_alter_table("explanation_records") as batch:
        batch.add_column(sa.Column("handoff_reason", sa.String(32), nullable=True))
        batch.add_column(sa.Column("handoff_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("explanation_records") as batch:
        batch.drop_column("handoff_id")
        batch.drop_column("handoff_reason")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("author_id")
    op.drop_index("ix_handoffs_queue", table_name="handoffs")
    op.drop_table("handoffs")

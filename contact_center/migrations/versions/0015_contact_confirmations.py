"""Contacts given for a case confirm before they get notices; notices held, and why.

Revision ID: 0015_contact_confirmations
Revises: 0014_communes
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_contact_confirmations"
down_revision = "0014_communes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_confirmations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column(
            "case_id", sa.String(32), sa.ForeignKey("cases.id"), nullable=False, index=True
        ),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("recipient_digest", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_contact_confirmations_refusals",
        "contact_confirmations",
        ["tenant_id", "recipient_digest"],
    )
    op.add_column("notifications", sa.Column("held_reason", sa.String(32), nullable=True))
    op.create_index(
        "ix_notifications_recipient_created", "notifications", ["recipient", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_recipient_created", table_name="notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("held_reason")
    op.drop_index("ix_contact_confirmations_refusals", table_name="contact_confirmations")
    op.drop_table("contact_confirmations")

"""Cases (GRU): the service catalogue, cases and their numbering counters, their append-only
history, the notification outbox, and the conversation's in-progress state.

Revision ID: 0002_cases
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_cases"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("state", sa.JSON, nullable=True))
    _create_services()
    _create_cases()
    _create_case_events()
    _create_notifications()


def _create_services() -> None:
    op.create_table(
        "services",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("opening_hours", sa.Text, nullable=False),
        sa.Column("phone", sa.String(64), nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("target_response_days", sa.Integer, nullable=False),
        sa.Column("agents_group", sa.String(128), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("extra", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "code", name="uq_services_tenant_code"),
    )


def _create_cases() -> None:
    op.create_table(
        "case_counters",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("last_seq", sa.Integer, nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("tracking_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("summary", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("location", sa.Text, nullable=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversations.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
        sa.Column("contact_name", sa.String(255), nullable=True),
        sa.Column("contact_email", sa.String(255), nullable=True),
        sa.Column("contact_phone", sa.String(32), nullable=True),
        sa.Column("consent", sa.Boolean, nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("assigned_to", sa.String(128), nullable=True),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "year", "seq", name="uq_cases_tenant_year_seq"),
    )
    op.create_index("ix_cases_tenant_status", "cases", ["tenant_id", "status"])
    op.create_index("ix_cases_tenant_service", "cases", ["tenant_id", "service_code"])


def _create_case_events() -> None:
    op.create_table(
        "case_events",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=True),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),
    )


def _create_notifications() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.id"), nullable=True, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("recipient", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_notifications_status_next", "notifications", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_status_next", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("case_events")
    op.drop_index("ix_cases_tenant_service", table_name="cases")
    op.drop_index("ix_cases_tenant_status", table_name="cases")
    op.drop_table("cases")
    op.drop_table("case_counters")
    op.drop_table("services")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("state")

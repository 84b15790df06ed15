"""Knowledge-base administration: local documents, validated answers and their versions.

Revision ID: 0007_kb_admin
Revises: 0006_routing_corrections
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_kb_admin"
down_revision = "0006_routing_corrections"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.String(32), primary_key=True)


def _tenant() -> sa.Column:
    return sa.Column("tenant_id", sa.String(64), nullable=False, index=True)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "kb_documents",
        _id(),
        _tenant(),
        sa.Column("doc_id", sa.String(128), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("service", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.Column("published_version", sa.Integer, nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.UniqueConstraint("tenant_id", "doc_id", name="uq_kb_documents_doc"),
    )
    op.create_table(
        "kb_versions",
        _id(),
        sa.Column(
            "document_id",
            sa.String(32),
            sa.ForeignKey("kb_documents.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        _tenant(),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        _at("created_at"),
        sa.Column("diff", sa.Text, nullable=False),
        sa.Column("note", sa.String(300), nullable=False),
        sa.UniqueConstraint("document_id", "number", name="uq_kb_versions_number"),
    )
    op.create_table(
        "kb_validated_answers",
        _id(),
        _tenant(),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("paraphrases", sa.JSON, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("current_version", sa.Integer, nullable=False),
        _at("created_at"),
        _at("updated_at"),
    )
    op.create_table(
        "kb_validated_answer_versions",
        _id(),
        sa.Column(
            "answer_id",
            sa.String(32),
            sa.ForeignKey("kb_validated_answers.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        _tenant(),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("paraphrases", sa.JSON, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        _at("created_at"),
        sa.Column("diff", sa.Text, nullable=False),
        sa.Column("note", sa.String(300), nullable=False),
        sa.UniqueConstraint("answer_id", "number", name="uq_kb_validated_answer_versions_number"),
    )


def downgrade() -> None:
    op.drop_table("kb_validated_answer_versions")
    op.drop_table("kb_validated_answers")
    op.drop_table("kb_versions")
    op.drop_table("kb_documents")

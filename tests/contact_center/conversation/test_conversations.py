"""Conversation persistence on SQLite and PostgreSQL, migrations, retention and erasure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect

from contact_center.conversation.store import ConversationStore, RecordDraft
from contact_center.db import Database, migrate, utcnow


@pytest.fixture
def store(database_url: str) -> ConversationStore:
    database = Database(database_url)
    migrate(database.engine)
    return ConversationStore(database)


def _draft(conversation_id: str, question: str) -> RecordDraft:
    return RecordDraft(
        tenant_id="demo",
        conversation_id=conversation_id,
        channel="web",
        question=question,
        answer="Réponse [1]",
        outcome="answered",
        kb_version="k1",
        prompt_version="p1",
        model_id="fake",
        embedding_model_id="usem3",
        retrieved=[{"chunk_id": "c1", "document_id": "F1344", "score": 0.9}],
        cited=[1],
        latency_ms={"total": 12.5},
    )


def test_migrations_create_the_schema_and_are_idempotent(database_url: str) -> None:
    database = Database(database_url)
    migrate(database.engine)
    migrate(database.engine)
    tables = set(inspect(database.engine).get_table_names())
    assert {"conversations", "messages", "explanation_records", "alembic_version"} <= tables


def test_messages_are_kept_in_order_with_their_sources(store: ConversationStore) -> None:
    conversation = store.create("demo")
    store.add_message(conversation.id, "user", "Bonjour, comment se pacser ?")
    sources = [{"n": 1, "id": "F1618", "title": "Se pacser", "url": "https://x"}]
    store.add_message(conversation.id, "assistant", "Voici [1]", sources=sources)
    view = store.get(conversation.id)
    assert view is not None
    assert [m.role for m in view.messages] == ["user", "assistant"]
    assert view.messages[1].sources == sources
    assert store.get(conversation.id, tenant_id="autreville") is None


def test_records_are_redacted_and_listed(store: ConversationStore) -> None:
    conversation = store.create("demo")
    store.add_record(_draft(conversation.id, "Mon IBAN est FR76 3000 6000 0112 3456 7890 189"))
    (record,) = store.records(conversation.id)
    assert "FR76" not in record["question"] and "[IBAN]" in record["question"]
    assert record["retrieved"][0]["document_id"] == "F1344"
    assert record["latency_ms"] == {"total": 12.5}


def test_retention_purges_only_old_conversations(store: ConversationStore) -> None:
    old = store.create("demo")
    store.add_message(old.id, "user", "Ancienne question")
    store.add_record(_draft(old.id, "Ancienne question"))
    recent = store.create("demo")
    store.add_message(recent.id, "user", "Question récente")
    deleted = store.purge_older_than(30, now=utcnow() + timedelta(days=31))
    assert deleted == 2
    assert store.purge_older_than(30) == 0
    again = store.create("demo")
    assert store.purge_older_than(30, now=utcnow() + timedelta(days=29)) == 0
    assert store.get(again.id) is not None


def test_erasure_by_contact_detail_removes_only_that_residents_data(
    store: ConversationStore,
) -> None:
    mine = store.create("demo")
    store.add_message(mine.id, "user", "Rappelez-moi au 06 11 22 33 44 svp")
    store.add_record(_draft(mine.id, "Rappelez-moi au 06 11 22 33 44 svp"))
    other = store.create("demo")
    store.add_message(other.id, "user", "Horaires de la mairie ?")
    assert store.erase(containing="06 11 22 33 44") == 1
    assert store.get(mine.id) is None
    assert store.records(mine.id) == []
    assert store.get(other.id) is not None
    assert store.erase(conversation_id=other.id) == 1
    with pytest.raises(ValueError):
        store.erase()

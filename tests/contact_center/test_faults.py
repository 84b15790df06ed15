"""Faults in the middle of a turn: nothing lost, nothing stored twice, the record says so.

Real components throughout: the app through ``TestClient``, PostgreSQL behind a proxy that the
test cuts (:class:`~contact_center.testing.tcp_proxy.CuttableProxy`: what the app sees when its
database restarts or fails over), and an OpenAI-compatible LLM server in its own process that
the test kills in the middle of an answer (:class:`~contact_center.testing.llm_standin.LLMStandIn`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from channels.webchat.sse import chat_notice
from contact_center.app import create_app
from contact_center.conversation.turns import TurnCompleted, TurnFailed
from contact_center.services import Services
from contact_center.testing.chat_harness import ChatHarness, sign_in
from contact_center.testing.llm_standin import LLMStandIn
from contact_center.testing.tcp_proxy import CuttableProxy
from retrieval.embeddings import Embedder
from retrieval.qdrant_edge import copy_index
from routing.classifier import RequestClassifier
from tests.conftest import make_settings

QUESTION = "J'ai perdu ma carte d'identité, que faire ?"


def fault_services(
    tmp_path: Path,
    indexed_qdrant: Path,
    embedder: Embedder,
    classifier: RequestClassifier,
    *,
    llm_url: str,
    database_url: str | None = None,
) -> Services:
    """Services answering with the LLM at ``llm_url`` (checked, else extractive)."""
    copy_index(indexed_qdrant, tmp_path / "qdrant")
    settings = make_settings(
        tmp_path,
        llm={"backend": "openai", "base_url": llm_url},
        retrieval={"answer_mode": "generated"},
        chat={"rate_limit_per_minute": 600, "rate_limit_burst": 100},
        **({"database": {"url": database_url}} if database_url else {}),
    )
    return Services(settings, embedder=embedder, classifier=classifier)


@pytest.fixture
def proxied_postgres(postgres_url: str) -> Iterator[tuple[CuttableProxy, str]]:
    """A fresh PostgreSQL database reached through a proxy the test can cut."""
    with CuttableProxy(("127.0.0.1", 5432)) as proxy:
        yield proxy, postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")


def stored_once(chat: ChatHarness, wait_s: float = 60) -> list[dict[str, Any]]:
    """The conversation's messages once the app has stored what it kept (its lifespan retries
    every few seconds)."""
    deadline = time.monotonic() + wait_s
    while True:
        response = chat.client.get(f"/api/v1/conversations/{chat.id}", headers=chat.auth)
        if response.status_code == 200 and len(response.json()["messages"]) >= 2:
            return list(response.json()["messages"])
        if time.monotonic() > deadline:
            raise AssertionError(f"the turn was never stored: {response.text}")
        time.sleep(0.5)


@pytest.mark.integration
def test_database_lost_mid_turn_the_resident_gets_the_answer_and_it_is_stored_once_back(
    tmp_path: Path,
    indexed_qdrant: Path,
    embedder: Embedder,
    request_classifier: RequestClassifier,
    proxied_postgres: tuple[CuttableProxy, str],
) -> None:
    database, url = proxied_postgres
    with LLMStandIn() as llm:
        services = fault_services(
            tmp_path, indexed_qdrant, embedder, request_classifier,
            llm_url=llm.base_url, database_url=url,
        )  # fmt: skip
        with TestClient(create_app(services=services)) as client, ThreadPoolExecutor(1) as pool:
            chat = ChatHarness(client)
            sending = pool.submit(chat.send, QUESTION)
            llm.wait_mid_answer()  # the message is stored, the answer on its way
            database.cut()
            llm.finish()
            turn = sending.result(timeout=120)

            # The resident read the answer, with no error and no stack trace.
            assert turn.status_code == 200 and turn.of("error") == []
            assert "[1]" in turn.done["answer"] and not turn.done["abstained"]
            # While the database is away, a reload gets the French « indisponible ».
            down = client.get(f"/api/v1/conversations/{chat.id}", headers=chat.auth)
            assert down.status_code == 503
            assert "momentanément indisponible" in down.json()["message"]

            database.restore()
            messages = stored_once(chat)
            sign_in(client)  # records are for agents
            records = chat.records()
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", QUESTION),
        ("assistant", turn.done["answer"]),
    ]
    assert messages[1]["id"] == turn.done["message_id"]  # the id the resident was given
    (record,) = records
    assert record["message_id"] == turn.done["message_id"]
    assert record["fault"] == "database_unavailable"
    assert record["answer"] == turn.done["answer"]


@pytest.mark.integration
def test_database_lost_before_the_message_is_stored_an_apology_then_stored_once_back(
    tmp_path: Path,
    indexed_qdrant: Path,
    embedder: Embedder,
    request_classifier: RequestClassifier,
    proxied_postgres: tuple[CuttableProxy, str],
) -> None:
    database, url = proxied_postgres
    services = fault_services(
        tmp_path, indexed_qdrant, embedder, request_classifier,
        llm_url="http://127.0.0.1:9/v1", database_url=url,
    )  # fmt: skip
    services.warm_up(llm=False)
    conversation = services.conversations.create("demo")
    engine = services.engine

    async def turn() -> list[object]:
        events = engine.run_turn(conversation.id, "demo", QUESTION, wording=chat_notice)
        return [event async for event in events]

    database.cut()
    try:
        events = anyio.run(turn)
        assert len(engine.deferred) == 2  # the message, then the apology and its record
        assert engine.deferred.flush() == 0  # still away: nothing written, nothing dropped
    finally:
        database.restore()
    failed, done = events
    assert isinstance(failed, TurnFailed) and failed.code == "database_failure"
    assert isinstance(done, TurnCompleted)
    assert "accueil de la mairie" in done.answer  # a way to a person
    assert engine.deferred.flush() == 2 and engine.deferred.flush() == 0
    view = services.conversations.get(conversation.id)
    assert view is not None
    assert [(m.role, m.content) for m in view.messages] == [
        ("user", QUESTION),
        ("assistant", done.answer),
    ]
    (record,) = services.conversations.records(conversation.id)
    assert record["reason"] == "database_failure"
    assert record["fault"] == "database_unavailable"
    services.database.dispose()


def test_llm_killed_mid_answer_the_resident_gets_the_official_text_stored_once(
    tmp_path: Path,
    indexed_qdrant: Path,
    embedder: Embedder,
    request_classifier: RequestClassifier,
) -> None:
    with LLMStandIn() as llm:
        services = fault_services(
            tmp_path, indexed_qdrant, embedder, request_classifier, llm_url=llm.base_url
        )
        with TestClient(create_app(services=services)) as client, ThreadPoolExecutor(1) as pool:
            chat = ChatHarness(client)
            sending = pool.submit(chat.send, QUESTION)
            llm.wait_mid_answer()
            llm.kill()
            turn = sending.result(timeout=120)
            messages = chat.reload()["messages"]
            sign_in(client)
            records = chat.records()
    assert turn.status_code == 200 and turn.of("error") == []
    assert "[1]" in turn.done["answer"] and not turn.done["abstained"]
    assert "D'après la fiche" not in turn.done["answer"]  # no half-written generated answer
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", QUESTION),
        ("assistant", turn.done["answer"]),
    ]
    (record,) = records
    assert record["answer_path"] == "extractive"
    assert record["path_reason"] == "llm_failure"
    assert record["fault"] is None

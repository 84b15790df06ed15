"""Typing events through the real app and the in-process bus: who is told, how often, and
that nothing is stored. The desk's throttle runs on an injected clock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.handoffs.realtime import Event, console_channel, conversation_channel
from contact_center.services import Services
from contact_center.testing.chat_harness import ChatHarness, sign_in
from retrieval.embeddings import Embedder
from tests.contact_center.handoffs.console_support import ASK_PERSON, console_services

CONSOLE = "/api/v1/console"
END = {"type": "end_of_test"}


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def app(tmp_path: Path, indexed_qdrant: Path, embedder: Embedder) -> Iterator[FastAPI]:
    url = f"sqlite:///{tmp_path / 'cc.db'}"
    application = create_app(services=console_services(tmp_path, indexed_qdrant, url, embedder))
    with TestClient(application):
        yield application


def agent(app: FastAPI, role: str, *services: str) -> TestClient:
    client = TestClient(app)
    sign_in(client, role=role, services=services)
    return client


def test_typing_reaches_the_other_side_throttled_and_is_not_stored(app: FastAPI) -> None:
    services: Services = app.state.services
    ticks = Ticks()
    services.agent_desk.typing.clock = ticks
    chat = ChatHarness(TestClient(app))
    chat.send(ASK_PERSON)
    handoff = services.handoffs.active_for(chat.id)
    assert handoff is not None
    clerk = agent(app, "agent", "etat_civil")
    roads = agent(app, "agent", "voirie")
    supervisor = agent(app, "supervisor")
    resident_typing = f"/api/v1/conversations/{chat.id}/typing"
    agent_typing = f"{CONSOLE}/handoffs/{handoff.id}/typing"

    async def scenario() -> tuple[list[Event], list[Event]]:
        console = await services.bus.subscribe(console_channel("demo"))
        page = await services.bus.subscribe(conversation_channel(chat.id))
        # Nobody holds the conversation yet: the resident's typing goes nowhere.
        assert chat.client.post(resident_typing, headers=chat.auth).status_code == 204
        assert clerk.post(f"{CONSOLE}/handoffs/{handoff.id}/claim").status_code == 200
        for _ in range(3):
            assert chat.client.post(resident_typing, headers=chat.auth).status_code == 204
            assert clerk.post(agent_typing).status_code == 204
        ticks.now += 2.5
        chat.client.post(resident_typing, headers=chat.auth)
        assert supervisor.post(agent_typing).status_code == 204  # not theirs: nothing sent
        assert roads.post(agent_typing).status_code == 403
        assert chat.client.post(resident_typing).status_code == 401
        for channel in (console_channel("demo"), conversation_channel(chat.id)):
            services.bus.publish(channel, END)
        return await _until_end(console), await _until_end(page)

    to_console, to_resident = asyncio.run(scenario())

    typing_seen = [e for e in to_console if e["type"] == "resident_typing"]
    assert [e["message"] for e in typing_seen] == ["L'usager écrit…", "L'usager écrit…"]
    assert typing_seen[0]["conversation_id"] == chat.id
    assert [e["message"] for e in to_resident if e["type"] == "agent_typing"] == ["Un agent écrit…"]
    stored = services.conversations.get(chat.id)
    assert stored is not None and [m.role for m in stored.messages] == ["user", "assistant"]


async def _until_end(subscription: object) -> list[Event]:
    events: list[Event] = []
    while True:
        event = await subscription.get(30)  # type: ignore[attr-defined]
        assert event is not None, "the end marker never came"
        if event == END:
            await subscription.aclose()  # type: ignore[attr-defined]
            return events
        events.append(event)

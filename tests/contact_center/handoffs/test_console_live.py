"""Live events between a resident's page and agents' consoles, through a real server.

The app runs under uvicorn in a thread (in-process event bus); the resident and the agents
follow their Server-Sent Events streams as EventSource does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contact_center.app import create_app
from contact_center.services import Services
from contact_center.testing.chat_harness import TEST_PASSWORD, ChatHarness
from contact_center.testing.console import EventStreamReader, sign_in_over_http
from retrieval.embeddings import Embedder
from tests.contact_center.handoffs.console_support import ASK_PERSON, console_services, serve

CONSOLE = "/api/v1/console"


@pytest.fixture
def services(tmp_path: Path, indexed_qdrant: Path, embedder: Embedder) -> Services:
    return console_services(tmp_path, indexed_qdrant, f"sqlite:///{tmp_path / 'cc.db'}", embedder)


@pytest.fixture
def base_url(services: Services) -> Iterator[str]:
    with serve(create_app(services=services)) as url:
        yield url


def agent_client(base_url: str, services: Services, email: str, *codes: str) -> httpx.Client:
    services.auth.accounts.create_agent(
        "demo", email, "Agent de test", role="agent", password=TEST_PASSWORD, services=codes
    )
    client = httpx.Client(base_url=base_url)
    sign_in_over_http(client, email, TEST_PASSWORD, "demo")
    return client


def console_stream(base_url: str, client: httpx.Client) -> EventStreamReader:
    reader = EventStreamReader(base_url, f"{CONSOLE}/events", cookies=dict(client.cookies))
    reader.wait_for("ready")
    return reader


def test_resident_and_agent_exchange_live(base_url: str, services: Services) -> None:
    clerk = agent_client(base_url, services, "etat-civil@demo.example", "etat_civil")
    roads = agent_client(base_url, services, "voirie@demo.example", "voirie")
    clerk_events, roads_events = console_stream(base_url, clerk), console_stream(base_url, roads)

    resident = ChatHarness(httpx.Client(base_url=base_url, timeout=60))
    done = resident.send(ASK_PERSON).done
    opened = clerk_events.wait_for("handoff_opened")
    assert opened["conversation_id"] == resident.id and opened["service"] == "etat_civil"
    page = EventStreamReader(
        base_url,
        f"/api/v1/conversations/{resident.id}/events?after={done['message_id']}",
        headers=resident.auth,
    )
    assert page.wait_for("status") == {"status": "waiting", "rating_pending": False}

    handoff = opened["handoff_id"]
    clerk.post(f"{CONSOLE}/handoffs/{handoff}/claim").raise_for_status()
    assert "a rejoint la conversation" in page.wait_for("agent_joined")["message"]

    assert resident.send("Bonjour, c'est pour ma fille.").done["action"] == "with_agent"
    heard = clerk_events.wait_for("resident_message")
    assert (heard["text"], heard["conversation_id"]) == (
        "Bonjour, c'est pour ma fille.",
        resident.id,
    )

    clerk.post(f"{CONSOLE}/handoffs/{handoff}/messages", json={"text": "Je m'en occupe."})
    assert page.wait_for("agent_message")["content"] == "Je m'en occupe."

    clerk.post(f"{CONSOLE}/handoffs/{handoff}/close", json={"resolution": "resolved"})
    assert page.wait_for("closed")["rating"] is True
    assert page.ended.wait(5)  # the resident's stream ends with the exchange

    # An agent of another service hears nothing of it, but does hear their own service.
    roads_chat = ChatHarness(httpx.Client(base_url=base_url, timeout=60))
    roads_chat.send("Un lampadaire est en panne, je veux parler à un agent")
    roads_events.wait_for("handoff_opened", where=lambda e: e["conversation_id"] == roads_chat.id)
    assert all(data.get("conversation_id") != resident.id for _, data in roads_events.seen)
    for reader in (clerk_events, roads_events, page):
        reader.close()


def test_the_console_stream_needs_a_session(base_url: str) -> None:
    response = httpx.get(f"{base_url}{CONSOLE}/events")
    assert response.status_code == 401


def test_the_consoles_stream_ends_at_sign_out(base_url: str, services: Services) -> None:
    clerk = agent_client(base_url, services, "etat-civil@demo.example", "etat_civil")
    stream = console_stream(base_url, clerk)
    clerk.post("/api/v1/auth/logout").raise_for_status()

    resident = ChatHarness(httpx.Client(base_url=base_url, timeout=60))
    assert resident.send(ASK_PERSON).done["action"] == "handoff"

    ended = stream.wait_for("signed_out")
    assert "session est terminée" in ended["message"]
    assert stream.ended.wait(15)
    assert "handoff_opened" not in [name for name, _ in stream.seen]

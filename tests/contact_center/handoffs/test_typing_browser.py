"""Typing indicators both ways, and the history, in Debian's Chromium: the resident's widget
and the agent's console side by side over the real app (in-process events), the desk open.

While the agent types, the resident reads « Un agent écrit… »; while the resident types, the
agent reads « L'usager écrit… ». Neither is stored: the conversation holds only the messages.
A supervisor finds a closed conversation in the history and opens it, read-only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contact_center.services import Services
from contact_center.testing.chat_harness import TEST_PASSWORD
from retrieval.embeddings import Embedder
from tests.accessibility import assert_accessible
from tests.conftest import require_module
from tests.contact_center.handoffs.console_support import (
    AGENT_EMAIL,
    console_services,
    serve_console,
)

sync_api = require_module("playwright.sync_api", "Playwright is not installed")
Browser = sync_api.Browser
expect = sync_api.expect

pytestmark = pytest.mark.browser

EMAIL = AGENT_EMAIL
TIMEOUT_MS = 30_000


@pytest.fixture
def services(tmp_path: Path, indexed_qdrant: Path, embedder: Embedder) -> Services:
    return console_services(tmp_path, indexed_qdrant, f"sqlite:///{tmp_path / 'cc.db'}", embedder)


@pytest.fixture
def base_url(services: Services) -> Iterator[str]:
    with serve_console(services) as url:
        yield url


def test_each_side_sees_when_the_other_is_typing(
    browser: Browser, base_url: str, services: Services
) -> None:
    contexts = [browser.new_context(locale="fr-FR") for _ in range(2)]
    resident, agent = (context.new_page() for context in contexts)
    for page in (resident, agent):
        page.set_default_timeout(TIMEOUT_MS)
    try:
        resident.goto(f"{base_url}/")
        resident.get_by_role("button", name="Une question ? Écrivez-nous").click()
        resident.get_by_label("Votre question").fill("Je veux parler à un agent")
        resident.keyboard.press("Enter")
        log = resident.get_by_role("log")
        expect(log).to_contain_text("Je transmets notre conversation à un agent")

        agent.goto(f"{base_url}/console")
        agent.get_by_label("Adresse électronique").fill(EMAIL)
        agent.get_by_label("Mot de passe").fill(TEST_PASSWORD)
        agent.get_by_role("button", name="Se connecter").click()
        row = agent.locator("#queue-rows tr").filter(has_text="Demande de l'usager")
        row.get_by_role("button", name=re.compile("^Ouvrir la conversation")).click()
        agent.get_by_role("button", name="Prendre en charge").click()
        expect(log.get_by_text("Un agent de la mairie a rejoint la conversation")).to_be_visible()

        # The agent types: the resident is told, until the message arrives.
        resident_sees = resident.locator(".cc-typing")
        expect(resident_sees).to_have_text("")
        agent.get_by_label("Votre réponse à l'usager").press_sequentially("Bonjour, je regarde")
        expect(resident_sees).to_have_text("Un agent écrit…")
        agent.get_by_role("button", name="Envoyer").click()
        expect(log.get_by_role("article", name="Message de l'agent de la mairie")).to_have_count(1)
        expect(resident_sees).to_have_text("")

        # The resident types: the agent is told, until the message arrives.
        agent_sees = agent.locator("#resident-typing")
        expect(agent_sees).to_have_text("")
        resident.get_by_label("Votre question").press_sequentially("Merci, j'attends")
        expect(agent_sees).to_have_text("L'usager écrit…")
        resident.keyboard.press("Enter")
        expect(agent.locator("#messages")).to_contain_text("Merci, j'attends")
        expect(agent_sees).to_have_text("")
    finally:
        for context in contexts:
            context.close()

    conversation = services.conversations.get(services.handoffs.queue("demo")[0].conversation_id)
    assert conversation is not None
    assert [m.role for m in conversation.messages] == ["user", "assistant", "agent", "user"]


def test_a_supervisor_finds_a_closed_conversation_and_reads_the_agents_activity(
    browser: Browser, base_url: str, services: Services
) -> None:
    services.history.clock = lambda: datetime.now(UTC) + timedelta(days=1)  # all is quiet
    conversation = services.conversations.create("demo")
    services.conversations.add_message(conversation.id, "user", "Où jeter un vieux canapé ?")
    services.conversations.add_message(conversation.id, "assistant", "À la déchèterie.")
    services.auth.accounts.create_agent(
        "demo", "chef@val-fleuri.example", "Dominique Roux", role="supervisor",
        password=TEST_PASSWORD,
    )  # fmt: skip
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(f"{base_url}/console")
        page.get_by_label("Adresse électronique").fill("chef@val-fleuri.example")
        page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        history = page.get_by_role("region", name="Historique des conversations")
        history.get_by_label("Mots dans les messages").fill("canapé")
        history.get_by_role("button", name="Rechercher").click()
        expect(history.get_by_role("status")).to_have_text("1 conversation · page 1 sur 1")
        row = history.locator("#history-rows tr")
        expect(row).to_contain_text("Résolue par l'assistant")
        expect(page.get_by_role("table", name="Activité par agent")).to_be_visible()
        assert_accessible(page, "the console's history and agents' activity")
        row.get_by_role("button", name=re.compile("^Consulter")).click()
        expect(page.locator("#messages")).to_contain_text("À la déchèterie.")
        expect(page.get_by_role("button", name="Prendre en charge")).to_be_hidden()
    finally:
        context.close()

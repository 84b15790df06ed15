"""A resident's widget and an agent's console side by side, in Debian's Chromium.

The resident asks for a person; the agent signs in, claims the conversation, they write to each
other (the assistant stays silent meanwhile), the agent files a case, sends its tracking code
and closes with « demande enregistrée »; the resident is asked to rate the exchange and does.
axe-core audits both pages along the way (tests/accessibility.py).
Real app under uvicorn (in-process events), real search over the small index, fake LLM,
keyword routing, the handoff desk open. ``CONSOLE_SCREENSHOT=/tmp/console.png`` keeps a
screenshot of the console.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
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
Page = sync_api.Page
expect = sync_api.expect

pytestmark = pytest.mark.browser

EMAIL = AGENT_EMAIL
TIMEOUT_MS = 30_000


@pytest.fixture
def services(tmp_path: Path, indexed_qdrant: Path, embedder: Embedder) -> Services:
    services = console_services(
        tmp_path, indexed_qdrant, f"sqlite:///{tmp_path / 'cc.db'}", embedder
    )
    return services


@pytest.fixture
def base_url(services: Services) -> Iterator[str]:
    with serve_console(services) as url:
        yield url


def pages(browser: Browser, base_url: str) -> Iterator[tuple[Page, Page]]:
    contexts = [
        browser.new_context(locale="fr-FR", viewport={"width": 900, "height": 860})
        for _ in range(2)
    ]
    resident, agent = (context.new_page() for context in contexts)
    resident.set_default_timeout(TIMEOUT_MS)
    agent.set_default_timeout(TIMEOUT_MS)
    resident.goto(f"{base_url}/")
    agent.goto(f"{base_url}/console")
    yield resident, agent
    for context in contexts:
        context.close()


def resident_writes(page: Page, text: str) -> None:
    page.get_by_label("Votre question").fill(text)
    page.keyboard.press("Enter")


def test_a_resident_and_an_agent_talk_until_the_case_is_filed(
    browser: Browser, base_url: str, services: Services
) -> None:
    for resident, agent in pages(browser, base_url):
        # The resident asks for a person.
        resident.get_by_role("button", name="Une question ? Écrivez-nous").click()
        resident_writes(resident, "Je veux parler à un agent")
        log = resident.get_by_role("log")
        answers = log.get_by_role("article", name="Réponse de l'assistant")
        expect(answers.last).to_contain_text("Je transmets notre conversation à un agent")

        # The agent signs in and finds the conversation in the queue.
        expect(agent.get_by_role("heading", name="Connexion à la console")).to_be_visible()
        assert_accessible(agent, "the console's sign-in form")
        agent.get_by_label("Adresse électronique").fill(EMAIL)
        agent.get_by_label("Mot de passe").fill(TEST_PASSWORD)
        agent.get_by_role("button", name="Se connecter").click()
        expect(agent.get_by_text("Camille Martin (agent)")).to_be_visible()
        row = agent.locator("#queue-rows tr").filter(has_text="Demande de l'usager")
        expect(row).to_contain_text("En attente")
        row.get_by_role("button", name=re.compile("^Ouvrir la conversation")).click()
        expect(agent.get_by_text("Pourquoi cette réponse ?").first).to_be_visible()
        assert_accessible(agent, "the console, queue and conversation open")
        agent.get_by_role("button", name="Prendre en charge").click()
        expect(log.get_by_text("Un agent de la mairie a rejoint la conversation")).to_be_visible()
        assert_accessible(resident, "the widget, an agent in the conversation")

        # They write to each other; the assistant stays silent.
        agent.get_by_label("Réponse type").select_option(label="Accueil")
        agent.get_by_role("button", name="Insérer").click()
        agent.get_by_role("button", name="Envoyer").click()
        from_agent = log.get_by_role("article", name="Message de l'agent de la mairie")
        expect(from_agent.last).to_contain_text("Bonjour, je suis agent de la mairie")
        resident.reload()  # the page comes back to the exchange and follows it again
        resident.get_by_role("button", name="Une question ? Écrivez-nous").click()
        expect(from_agent).to_have_count(1)
        resident_writes(resident, "Un banc est cassé au square des Tilleuls.")
        messages = agent.locator("#messages")
        expect(messages).to_contain_text("Un banc est cassé au square des Tilleuls.")
        expect(resident.locator(".cc-status")).to_contain_text("Message transmis à l'agent")
        expect(answers).to_have_count(1)

        # A case, its tracking code sent to the resident, then the exchange closes.
        agent.get_by_label("Objet de la demande").fill("Banc cassé au square des Tilleuls")
        agent.get_by_role("button", name="Créer la demande").click()
        expect(agent.get_by_text(re.compile(r"Demande n° \S+ \("))).to_be_visible()
        expect(agent.get_by_label("Votre réponse à l'usager")).to_have_value(re.compile(r"\S"))
        agent.get_by_role("button", name="Envoyer").click()
        expect(from_agent).to_have_count(2)
        expect(agent.get_by_label("Issue")).to_have_value("case_opened")
        agent.get_by_role("button", name="Clore avec cette issue").click()
        expect(agent.locator("#conversation-meta")).to_contain_text("Demande enregistrée")
        assert_accessible(agent, "the console, conversation closed with its case")
        screenshot = os.environ.get("CONSOLE_SCREENSHOT")
        if screenshot:
            agent.screenshot(path=screenshot, full_page=True)

        # The resident rates the exchange, once.
        rating = resident.get_by_role(
            "group", name="Comment évaluez-vous cet échange avec l'agent ?"
        )
        expect(rating).to_be_visible()
        assert_accessible(resident, "the widget asking to rate the exchange")
        rating.get_by_role("radio", name="4 – Satisfait").check()
        rating.get_by_role("button", name="Envoyer mon avis").click()
        expect(log.get_by_text("Merci pour votre avis.")).to_be_visible()
        if screenshot:
            resident.screenshot(path=screenshot.replace(".png", "-resident.png"))
        (handoff,) = services.handoffs.queue("demo", statuses=("closed",))
        assert (handoff.resolution, handoff.csat) == ("case_opened", 4)
        case = services.cases.get("demo", handoff.case_id or "")
        assert case is not None and case.summary == "Banc cassé au square des Tilleuls"

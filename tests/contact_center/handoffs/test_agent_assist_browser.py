"""The reply suggested to an agent, in Debian's Chromium: the agent inserts it and sends it,
and the resident's widget shows it.

Real app under uvicorn, real search over the small index, fake LLM, keyword routing, the
handoff desk open (the console browser test's set-up).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from contact_center.services import Services
from contact_center.testing.chat_harness import TEST_PASSWORD
from retrieval.embeddings import Embedder
from tests.accessibility import assert_accessible
from tests.conftest import require_module
from tests.contact_center.handoffs.console_support import console_services, serve_console
from tests.contact_center.handoffs.test_console_browser import EMAIL, pages, resident_writes

sync_api = require_module("playwright.sync_api", "Playwright is not installed")
Browser = sync_api.Browser
expect = sync_api.expect

pytestmark = pytest.mark.browser
QUESTION = "Combien coûte un passeport pour un adulte ?"


@pytest.fixture
def services(tmp_path: Path, indexed_qdrant: Path, embedder: Embedder) -> Services:
    return console_services(tmp_path, indexed_qdrant, f"sqlite:///{tmp_path / 'cc.db'}", embedder)


@pytest.fixture
def base_url(services: Services) -> Iterator[str]:
    with serve_console(services) as url:
        yield url


def test_an_agent_sends_the_suggested_reply_and_the_resident_reads_it(
    browser: Browser, base_url: str, services: Services
) -> None:
    for resident, agent in pages(browser, base_url):
        resident.get_by_role("button", name="Une question ? Écrivez-nous").click()
        resident_writes(resident, QUESTION)
        log = resident.get_by_role("log")
        answers = log.get_by_role("article", name="Réponse de l'assistant")
        expect(answers.last).to_contain_text("86 €")
        resident_writes(resident, "Je veux parler à un agent")
        expect(answers.last).to_contain_text("Je transmets notre conversation à un agent")

        agent.get_by_label("Adresse électronique").fill(EMAIL)
        agent.get_by_label("Mot de passe").fill(TEST_PASSWORD)
        agent.get_by_role("button", name="Se connecter").click()
        row = agent.locator("#queue-rows tr").filter(has_text="Demande de l'usager")
        row.get_by_role("button", name=re.compile("^Ouvrir la conversation")).click()
        summary = agent.locator("#summary")
        expect(summary).to_contain_text(f"Demande : « {QUESTION} »")
        expect(summary).to_contain_text("Motif du transfert : Demande de l'usager.")
        agent.get_by_role("button", name="Prendre en charge").click()

        panel = agent.get_by_role("region", name="Réponse suggérée")
        expect(panel).to_contain_text(f"En réponse à : « {QUESTION} »")
        expect(panel).to_contain_text("Le passeport coûte 86 €")
        source = panel.get_by_role("link", name=re.compile(r"^\[1\] Combien coûte un passeport"))
        expect(source).to_have_attribute("href", re.compile("^https://"))
        assert_accessible(agent, "the console with a suggested reply")
        panel.get_by_role("button", name="Insérer la réponse suggérée").click()
        reply = agent.get_by_label("Votre réponse à l'usager")
        expect(reply).to_have_value(re.compile("Le passeport coûte 86 €"))
        agent.get_by_role("button", name="Envoyer").click()

        from_agent = log.get_by_role("article", name="Message de l'agent de la mairie")
        expect(from_agent.last).to_contain_text("Le passeport coûte 86 €")
        expect(agent.locator("#messages")).to_contain_text("Le passeport coûte 86 €")
        counted = services.suggestions.figures("demo")
        assert (counted.shown, counted.unchanged) == (1, 1)

"""The outcome figures in the console, in Debian's Chromium: a supervisor reads the charts, each
an image named with its values, and the tables beside them; the page passes the audit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contact_center.app import create_app
from contact_center.conversation.store import RecordDraft
from contact_center.services import Services
from contact_center.testing.chat_harness import TEST_PASSWORD
from retrieval.embeddings import Embedder
from tests.accessibility import assert_accessible
from tests.conftest import require_module
from tests.contact_center.handoffs.console_support import console_services, serve

sync_api = require_module("playwright.sync_api", "Playwright is not installed")
Browser = sync_api.Browser
expect = sync_api.expect

pytestmark = pytest.mark.browser

EMAIL = "chef@val-fleuri.example"
TIMEOUT_MS = 30_000


@pytest.fixture
def services(tmp_path: Path, indexed_qdrant: Path, embedder: Embedder) -> Services:
    services = console_services(
        tmp_path, indexed_qdrant, f"sqlite:///{tmp_path / 'cc.db'}", embedder
    )
    services.outcomes.clock = lambda: datetime.now(UTC) + timedelta(hours=1)  # all is quiet
    return services


@pytest.fixture
def base_url(services: Services) -> Iterator[str]:
    with serve(create_app(services=services)) as url:
        services.auth.accounts.create_agent(
            "demo", EMAIL, "Dominique Roux", role="supervisor", password=TEST_PASSWORD
        )
        yield url


def answered(services: Services, words: str, path: str | None, abstained: bool) -> None:
    conversation = services.conversations.create("demo")
    services.conversations.add_message(conversation.id, "user", words)
    reply = services.conversations.add_message(conversation.id, "assistant", "Réponse.")
    services.conversations.add_record(
        RecordDraft(
            tenant_id="demo", conversation_id=conversation.id, channel="web", question=words,
            answer="Réponse.", outcome="answered", kb_version="v1", prompt_version="p1",
            model_id="fake", embedding_model_id="fake", message_id=reply.id,
            abstained=abstained, reason="low_relevance" if abstained else None,
            answer_path=path,
            routing={"service": "voirie", "confidence": 0.9, "needs_triage": False},
        )
    )  # fmt: skip


def test_a_supervisor_reads_the_outcome_charts_and_their_tables(
    browser: Browser, base_url: str, services: Services
) -> None:
    answered(services, "Où jeter un vieux canapé ?", "extractive", abstained=False)
    answered(services, "Puis-je promener un lama en ville ?", None, abstained=True)
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(f"{base_url}/console")
        page.get_by_label("Adresse électronique").fill(EMAIL)
        page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        outcomes = page.get_by_role("region", name="Résultats des conversations")
        paths = outcomes.get_by_role("img", name=re.compile("^Réponses de l'assistant par voie"))
        expect(paths).to_have_attribute(
            "aria-label",
            "Réponses de l'assistant par voie : Réponse validée 0, Extraits 1, Générée 0",
        )
        trend = outcomes.get_by_role(
            "img", name=re.compile("^Résolution automatique et transferts")
        )
        expect(trend).to_have_attribute("aria-label", re.compile("résolution automatique 50 %"))
        periods = outcomes.get_by_role("table", name="Résultats par période")
        expect(periods.get_by_role("row").filter(has_text="50 %")).to_have_count(1)
        services_table = outcomes.get_by_role("table", name="Résultats par service")
        expect(services_table).to_contain_text("Service Voirie et espaces publics")
        expect(outcomes.get_by_role("list")).to_contain_text("Puis-je promener un lama en ville ?")
        csv_link = outcomes.get_by_role("link", name="Télécharger ces résultats (CSV)")
        expect(csv_link).to_have_attribute("href", re.compile("/api/v1/console/outcomes.csv"))
        assert_accessible(page, "the console's outcome figures and charts")

        outcomes.get_by_label("Regrouper par").select_option("week")
        outcomes.get_by_role("button", name="Afficher").click()
        expect(periods.get_by_role("row").filter(has_text="Semaine du")).not_to_have_count(0)
    finally:
        context.close()

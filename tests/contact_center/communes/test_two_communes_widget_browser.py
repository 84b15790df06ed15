"""The widget of a commune created at run time, on that town's own page, in Debian's Chromium.

Bellerive is created through the API while the instance serves Val-Fleuri; each town publishes
its own market page. Bellerive's home page (served at the instance's origin by the browser's
router, as a town's site would embed ``widget.js``) carries ``data-tenant="bellerive"``: its
resident asks the widget about the market and reads Bellerive's days and page, never
Val-Fleuri's. Real app under uvicorn, real index, embedder and classifier.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.services import Services
from contact_center.testing.chat_harness import sign_in
from retrieval.embeddings import Embedder
from retrieval.qdrant_edge import copy_index
from routing.classifier import RequestClassifier
from tests.conftest import make_settings, require_module, serve_app
from tests.contact_center.test_two_communes import PAGE_A, PAGE_B, QUESTION, TOWN_B, create_town_b

sync_api = require_module("playwright.sync_api", "Playwright is not installed")
Browser = sync_api.Browser
expect = sync_api.expect

pytestmark = pytest.mark.browser

ANSWER_TIMEOUT_MS = 60_000
#: Bellerive's own home page, embedding the instance's widget for its commune.
TOWN_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Ville de Bellerive</title></head>
<body><main><h1>Ville de Bellerive</h1></main>
<script src="/widget.js" data-tenant="bellerive" defer></script></body></html>"""


@pytest.fixture
def base_url(
    tmp_path: Path,
    indexed_qdrant: Path,
    embedder: Embedder,
    request_classifier: RequestClassifier,
) -> Iterator[str]:
    """The instance serving Val-Fleuri, then Bellerive, each with its market page published."""
    copy_index(indexed_qdrant, tmp_path / "qdrant")
    settings = make_settings(tmp_path, app={"tenants": {"demo": "Ville de Val-Fleuri"}})
    services = Services(settings, embedder=embedder, classifier=request_classifier)
    app = create_app(services=services)
    with serve_app(app) as port:
        admin_b = create_town_b(app)
        admin_a = TestClient(app)
        sign_in(admin_a, role="admin")
        for client, tenant, page in ((admin_a, "demo", PAGE_A), (admin_b, TOWN_B, PAGE_B)):
            published = client.post(f"/api/v1/tenants/{tenant}/kb/documents", json=page)
            assert published.status_code == 201, published.text
        yield f"http://127.0.0.1:{port}"


def test_the_new_communes_widget_answers_from_its_own_page(browser: Browser, base_url: str) -> None:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.route(
        f"{base_url}/bellerive.html",
        lambda route: route.fulfill(content_type="text/html", body=TOWN_PAGE),
    )
    page.goto(f"{base_url}/bellerive.html")
    page.get_by_role("button", name="Une question ? Écrivez-nous").click()
    page.get_by_label("Votre question").fill(QUESTION)
    page.keyboard.press("Enter")

    log = page.get_by_role("log")
    answer = log.get_by_role("article", name="Réponse de l'assistant").last
    expect(answer).to_have_attribute("data-state", "done", timeout=ANSWER_TIMEOUT_MS)
    expect(answer.locator(".cc-bubble")).to_contain_text("jeudi")
    expect(answer.locator(".cc-bubble")).not_to_contain_text("mercredi")
    sources = answer.get_by_role("group", name="Sources")
    expect(sources).to_contain_text("Marché de plein air de Bellerive")
    expect(sources).not_to_contain_text("Val-Fleuri")
    context.close()

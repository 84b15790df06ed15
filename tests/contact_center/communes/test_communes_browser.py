"""The « Communes » tab of /admin in Debian's Chromium: only the platform's administrators see it.

An administrator of the platform's commune (the default commune, Val-Fleuri) signs in, opens
« Communes », creates Bellerive with the form, sees it in the table and its first
administrator's initial password, once: after a reload the password is nowhere on the page,
and Bellerive's administrator signs in with it. An administrator of another commune
(Autreville) never gets the tab. axe-core audits the tab with the password shown
(tests/accessibility.py). Real app under uvicorn, SQLite, fake embeddings and LLM.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from contact_center.app import create_app
from contact_center.services import Services
from contact_center.testing.chat_harness import TEST_PASSWORD
from routing.testing.fakes import FakeRequestClassifier
from tests.accessibility import assert_accessible
from tests.conftest import OTHER_TENANT, make_settings, require_module, serve_app

sync_api = require_module("playwright.sync_api", "Playwright is not installed")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

pytestmark = pytest.mark.browser

PLATFORM_ADMIN = "plateforme@val-fleuri.example"
OTHER_ADMIN = "admin@autreville.example"
NEW_ADMIN = "premiere-admin@bellerive.example"
TIMEOUT_MS = 30_000


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    """The real app on a loopback port, with an administrator of the platform's commune
    (``demo``, the default one) and one of Autreville."""
    settings = make_settings(tmp_path, embeddings={"backend": "fake"})
    services = Services(settings, classifier=FakeRequestClassifier())
    with serve_app(create_app(services=services)) as port:
        accounts = services.auth.accounts
        accounts.create_agent("demo", PLATFORM_ADMIN, "Claire Platon", role="admin",
                              password=TEST_PASSWORD)  # fmt: skip
        accounts.create_agent(OTHER_TENANT, OTHER_ADMIN, "Hugo Autre", role="admin",
                              password=TEST_PASSWORD)  # fmt: skip
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="fr-FR")
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    context.close()


def sign_in(page: Page, base_url: str, tenant: str, email: str, password: str) -> None:
    """Sign in to /admin; return once the page has asked whether the agent manages communes."""
    page.goto(f"{base_url}/admin")
    page.get_by_label("Commune (identifiant)").fill(tenant)
    page.get_by_label("Adresse électronique", exact=True).fill(email)
    page.get_by_label("Mot de passe").fill(password)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/communes")):
        page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#who")).to_contain_text(f"commune « {tenant} »")


def test_a_platform_admin_creates_a_commune_and_sees_its_password_once(
    page: Page, base_url: str
) -> None:
    sign_in(page, base_url, "demo", PLATFORM_ADMIN, TEST_PASSWORD)
    tabs = page.get_by_role("navigation", name="Rubriques")
    tabs.get_by_role("button", name="Communes").click()
    rows = page.locator("#communes > tr")
    expect(rows).to_have_count(2)  # the communes of the settings
    expect(rows.filter(has_text="Autreville")).to_contain_text(OTHER_TENANT)

    form = page.locator("#commune-form")
    form.get_by_label(re.compile("^Identifiant")).fill("bellerive")
    form.get_by_label("Nom affiché aux habitants").fill("Ville de Bellerive")
    form.get_by_label("Adresse électronique du premier administrateur").fill(NEW_ADMIN)
    form.get_by_label("Nom du premier administrateur (facultatif)").fill("Inès Berger")
    form.get_by_role("button", name="Créer la commune").click()

    created = page.locator("#commune-created")
    expect(created).to_contain_text("Commune « Ville de Bellerive » créée avec")
    expect(created).to_contain_text(f"Premier administrateur : {NEW_ADMIN}")
    expect(created).to_contain_text("affiché une seule fois")
    password = created.locator("code").inner_text().strip()
    assert len(password) >= 12
    expect(page.locator("#status")).to_have_text("Commune créée.")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="bellerive")).to_contain_text("Ville de Bellerive")
    expect(form.get_by_label("Nom affiché aux habitants")).to_have_value("")
    assert_accessible(page, "the administration's communes, one just created")

    # Once: the session goes on after a reload, the password is gone from the page.
    page.reload()
    tabs.get_by_role("button", name="Communes").click()
    expect(rows.filter(has_text="bellerive")).to_contain_text("Ville de Bellerive")
    expect(created).to_be_hidden()
    assert password not in page.content()

    # The first administrator of Bellerive signs in with it, on their own commune.
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Connexion des administrateurs")).to_be_visible()
    sign_in(page, base_url, "bellerive", NEW_ADMIN, password)
    expect(page.locator("#who")).to_contain_text("Inès Berger")
    expect(tabs.get_by_role("button", name="Communes")).to_be_hidden()


def test_an_admin_of_another_commune_never_sees_the_communes_tab(page: Page, base_url: str) -> None:
    sign_in(page, base_url, OTHER_TENANT, OTHER_ADMIN, TEST_PASSWORD)
    tabs = page.get_by_role("navigation", name="Rubriques")
    expect(tabs.get_by_role("button", name="Documents")).to_be_visible()
    expect(tabs.get_by_role("button", name="Communes")).to_be_hidden()
    expect(page.get_by_role("heading", name="Communes desservies")).to_be_hidden()
    assert_accessible(page, "the administration of a commune that is not the platform's")

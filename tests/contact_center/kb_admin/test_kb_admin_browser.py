"""An administrator edits a demo-town page in /admin (Debian's Chromium) and the chat's answer
changes: sign in, open the town hall's page, change its opening hours, preview, save, publish,
then ask the widget on the demo page (fake LLM: it quotes passage [1]'s first sentence).
The page has the console's look (one shared style sheet), and axe-core audits each state an
administrator goes through (tests/accessibility.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from contact_center.app import create_app
from contact_center.services import Services
from contact_center.settings import Settings
from contact_center.testing.chat_harness import TEST_PASSWORD
from retrieval.embeddings import Embedder
from routing.classifier import RequestClassifier
from tests.accessibility import assert_accessible
from tests.channels.test_widget_browser import ANSWER_TIMEOUT_MS
from tests.conftest import require_module, serve_app

sync_api = require_module("playwright.sync_api", "Playwright is not installed")
expect = sync_api.expect

pytestmark = pytest.mark.browser

QUESTION = "Quels sont les horaires d'ouverture de l'hôtel de ville de Val-Fleuri ?"
NEW_HOURS = "Nouveaux horaires : l'hôtel de ville est ouvert de 10 h à 16 h sans interruption."


def ask(page: object, base: str, question: str = QUESTION) -> str:
    page.goto(f"{base}/")  # type: ignore[attr-defined]
    page.evaluate("localStorage.clear()")  # type: ignore[attr-defined]
    page.reload()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Une question ? Écrivez-nous").click()  # type: ignore[attr-defined]
    page.get_by_label("Votre question").fill(question)  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    answer = page.get_by_role("log").get_by_role("article", name="Réponse de l'assistant").last  # type: ignore[attr-defined]
    expect(answer).to_have_attribute("data-state", "done", timeout=ANSWER_TIMEOUT_MS)
    return str(answer.locator(".cc-bubble").inner_text()).strip()


@pytest.fixture
def admin_server(
    settings: Settings, embedder: Embedder, request_classifier: RequestClassifier
) -> Iterator[str]:
    """The real app on a loopback port, with an administrator of the demo town."""
    services = Services(settings, embedder=embedder, classifier=request_classifier)
    with serve_app(create_app(services=services)) as port:
        services.auth.accounts.create_agent(
            "demo", ADMIN_EMAIL, "Administratrice", role="admin", password=TEST_PASSWORD
        )
        yield f"http://127.0.0.1:{port}"


def test_admin_edits_the_town_hall_hours_and_the_chat_answer_changes(
    browser: object, admin_server: str
) -> None:
    context = browser.new_context(locale="fr-FR")  # type: ignore[attr-defined]
    page = context.new_page()
    before = ask(page, admin_server)
    assert "10 h à 16 h" not in before

    page.goto(f"{admin_server}/admin")
    expect(page.get_by_role("heading", name="Connexion des administrateurs")).to_be_visible()
    assert_accessible(page, "the administration's sign-in form")
    page.get_by_label("Adresse électronique", exact=True).fill(ADMIN_EMAIL)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#documents > tr").first).to_be_visible()
    assert_accessible(page, "the administration's list of documents")
    page.get_by_label("Rechercher").fill("hôtel de ville")
    page.get_by_role("button", name="Filtrer").click()
    page.get_by_role("button", name="Modifier « Hôtel de ville de Val-Fleuri").click()
    body = page.get_by_label("Contenu (Markdown)")
    expect(body).to_have_value(re.compile("Horaires d'ouverture"))
    text = body.input_value()
    heading = "## Horaires d'ouverture\n\n"
    assert heading in text
    body.fill(text.replace(heading, f"{heading}{NEW_HOURS}\n\n"))
    page.get_by_label("Résumé").fill(NEW_HOURS)
    page.get_by_role("button", name="Aperçu").click()
    expect(page.locator("#preview")).to_contain_text("de 10 h à 16 h")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Document enregistré")
    page.get_by_role("button", name="Publier", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Document publié (version 2)")
    expect(page.locator("#versions > li")).to_have_count(2)
    assert_accessible(page, "the administration's editor, a document just published")

    after = ask(page, admin_server)
    assert after != before and "10 h à 16 h" in after
    context.close()


ADMIN_EMAIL = "admin-navigateur@val-fleuri.example"


def test_admin_starts_a_reimport_and_follows_it_to_its_end(
    browser: object, admin_server: str
) -> None:
    context = browser.new_context(locale="fr-FR")  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{admin_server}/admin")
    page.get_by_label("Adresse électronique", exact=True).fill(ADMIN_EMAIL)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Importer", exact=True).click()
    expect(page.locator("#job-summary")).to_contain_text("Aucun import lancé")

    page.get_by_role("button", name="Réimporter les pages de la commune").click()
    expect(page.get_by_role("status")).to_contain_text("il se poursuit en arrière-plan")
    summary = page.locator("#job-summary")
    expect(summary).to_contain_text("L'import des pages de la commune : terminé", timeout=60_000)
    details = page.locator("#job-details")
    expect(details).to_contain_text("Documents lus")
    expect(details).to_contain_text(ADMIN_EMAIL)
    assert_accessible(page, "the administration's imports, a job finished")
    context.close()


def test_a_residents_thumbs_down_shows_in_the_admins_review_queue(
    browser: object, admin_server: str
) -> None:
    context = browser.new_context(locale="fr-FR")  # type: ignore[attr-defined]
    page = context.new_page()
    ask(page, admin_server)
    answer = page.get_by_role("log").get_by_role("article", name="Réponse de l'assistant").last
    answer.get_by_role("button", name="Réponse pas utile").click()
    answer.get_by_label("Qu'est-ce qui ne va pas ? (facultatif)").select_option(
        label="Réponse incomplète"
    )
    answer.get_by_label("Commentaire (facultatif, sans données personnelles)").fill(
        "Il manque les horaires du samedi."
    )
    answer.get_by_role("button", name="Envoyer mon avis").click()
    expect(answer.get_by_role("status")).to_contain_text("Merci pour votre avis")

    page.goto(f"{admin_server}/admin")
    page.get_by_label("Adresse électronique", exact=True).fill(ADMIN_EMAIL)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Avis des usagers").click()
    row = page.locator("#feedback > tr").first
    expect(row).to_contain_text("Réponse incomplète")
    expect(row).to_contain_text(QUESTION)
    expect(row).to_contain_text("Il manque les horaires du samedi.")
    expect(row.get_by_role("cell").nth(2)).to_have_text("1")
    assert_accessible(page, "the administration's residents' feedback")
    context.close()


#: What makes the look: the header's colours, a form's label, field and main button.
LOOK = """() => Object.fromEntries([
    ["header", "header.top", ["backgroundColor", "color", "paddingTop"]],
    ["label", "form label", ["fontWeight", "marginBottom"]],
    ["field", "input[type=email]", ["borderTopColor", "borderTopLeftRadius", "paddingTop"]],
    ["button", "button[type=submit]", ["backgroundColor", "color", "fontWeight", "paddingTop"]],
    ["page", "body", ["fontFamily", "backgroundColor"]],
].map(([name, selector, properties]) => {
    const node = document.querySelector(selector);
    if (!node) return [name, null];
    const style = getComputedStyle(node);
    return [name, Object.fromEntries(properties.map((p) => [p, style[p]]))];
}))"""


def test_the_administration_has_the_consoles_look_and_a_narrow_screen_needs_no_side_scrolling(
    browser: object, admin_server: str
) -> None:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{admin_server}/console")
    expect(page.get_by_role("heading", name="Connexion à la console")).to_be_visible()
    console_look = page.evaluate(LOOK)
    page.goto(f"{admin_server}/admin")
    assert page.evaluate(LOOK) == console_look
    assert console_look["header"]["backgroundColor"] == "rgb(0, 0, 145)"  # DSFR's blue

    page.set_viewport_size({"width": 320, "height": 740})
    page.get_by_label("Adresse électronique", exact=True).fill(ADMIN_EMAIL)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#documents > tr").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page, "the administration on a narrow screen")
    context.close()


LIBRARY_PAGE = (
    "# Médiathèque Louise-Michel de Val-Fleuri\n\n## Horaires de la médiathèque\n\n"
    "La médiathèque Louise-Michel de Val-Fleuri est ouverte le mercredi et le samedi "
    "de 10 h à 18 h.\n"
)


def test_admin_imports_a_file_through_the_page_and_the_chat_uses_it(
    browser: object, admin_server: str
) -> None:
    """The page sends the file as a form (multipart/form-data): refusals come back in French,
    and a published import answers residents at once."""
    context = browser.new_context(locale="fr-FR")  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{admin_server}/admin")
    page.get_by_label("Adresse électronique", exact=True).fill(ADMIN_EMAIL)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Importer", exact=True).click()
    chooser = page.get_by_label("Fichier Markdown, HTML ou PDF (10 Mo au plus)")
    status = page.get_by_role("status")

    # Refused by the server (an empty file), then by the page before sending (past 10 Mo).
    chooser.set_input_files({"name": "vide.md", "mimeType": "text/markdown", "buffer": b""})
    page.get_by_role("button", name="Importer le fichier").click()
    expect(status).to_have_text("Le fichier vide.md est vide.")
    big = {"name": "gros.md", "mimeType": "text/markdown", "buffer": b"a" * (11 * 1024 * 1024)}
    chooser.set_input_files(big)
    page.get_by_role("button", name="Importer le fichier").click()
    expect(status).to_have_text("Le fichier « gros.md » dépasse la taille autorisée (10 Mo).")

    library = LIBRARY_PAGE.encode()
    markdown = {"name": "mediatheque.md", "mimeType": "text/markdown", "buffer": library}
    chooser.set_input_files(markdown)
    page.get_by_label("Publier immédiatement").check()
    page.get_by_role("button", name="Importer le fichier").click()
    expect(status).to_have_text("Fichier « mediatheque.md » importé.")
    expect(page.get_by_label("Contenu (Markdown)")).to_have_value(re.compile("Louise-Michel"))
    expect(page.locator("#doc-state")).to_have_text("État : Publié — version 1")
    expect(page.locator("#versions > li")).to_contain_text("Import MARKDOWN (mediatheque.md)")

    answer = ask(page, admin_server, "Quand la médiathèque Louise-Michel est-elle ouverte ?")
    assert "mercredi et le samedi de 10 h à 18 h" in answer
    context.close()

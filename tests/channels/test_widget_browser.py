"""The web chat widget in a real browser (Debian's Chromium) against the real app.

A resident opens the demo town's page, opens the widget with the keyboard, reads the AI
notice, asks a question, reads a sourced answer, reloads the page and finds the conversation
again; an over-long message is refused in French and nothing typed is lost. axe-core audits
the page at each of these states (tests/accessibility.py).

Needs the ``live_server_url`` fixture (tests/conftest.py: the real app with the deterministic
fake LLM and a small real index). Set ``WIDGET_SCREENSHOT=/tmp/widget.png`` to keep a screenshot
of the answered conversation.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from tests.accessibility import assert_accessible
from tests.conftest import require_module

sync_api = require_module("playwright.sync_api", "Playwright is not installed")
Browser = sync_api.Browser
Locator = sync_api.Locator
Page = sync_api.Page
expect = sync_api.expect

pytestmark = pytest.mark.browser

QUESTION = "J'ai perdu ma carte d'identité, que faire ?"
#: The CPU model is replaced by the fake one here; the margin is for the first search.
ANSWER_TIMEOUT_MS = 60_000


@pytest.fixture
def page(browser: Browser, live_server_url: str) -> Iterator[Page]:
    """A fresh profile (empty localStorage) on the demo town's home page."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(f"{live_server_url}/")
    yield page
    context.close()


def open_with_keyboard(page: Page) -> None:
    launcher = page.get_by_role("button", name="Une question ? Écrivez-nous")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()


def answers(page: Page) -> Locator:
    return page.get_by_role("log").get_by_role("article", name="Réponse de l'assistant")


def test_resident_gets_a_sourced_answer_that_survives_a_reload(page: Page) -> None:
    open_with_keyboard(page)
    question_box = page.get_by_label("Votre question")
    expect(question_box).to_be_focused()
    expect(page.get_by_role("note").filter(has_text="assistant automatisé")).to_contain_text(
        "intelligence artificielle"
    )

    question_box.fill(QUESTION)
    page.keyboard.press("Enter")

    answer = answers(page).last
    expect(answer).to_have_attribute("aria-busy", "false", timeout=ANSWER_TIMEOUT_MS)
    expect(answer).to_have_attribute("data-state", "done")
    assert answer.locator(".cc-bubble").inner_text().strip()
    sources = answer.get_by_role("group", name="Sources").get_by_role("link")
    expect(sources.first).to_be_visible()
    assert re.match(r"\[\d+\] \S", sources.first.inner_text())
    assert (sources.first.get_attribute("href") or "").startswith("http")
    expect(page.get_by_role("button", name="Envoyer")).to_be_enabled()
    answer_text = answer.locator(".cc-bubble").inner_text().strip()
    assert_accessible(page, "the demo page, widget with a sourced answer")
    if screenshot := os.environ.get("WIDGET_SCREENSHOT"):
        page.screenshot(path=screenshot)

    page.reload()
    open_with_keyboard(page)
    log = page.get_by_role("log")
    expect(log.get_by_role("article", name="Votre message")).to_have_text(
        re.compile(re.escape(QUESTION))
    )
    restored = answers(page).last
    expect(restored.locator(".cc-bubble")).to_have_text(answer_text, use_inner_text=True)
    expect(restored.get_by_role("group", name="Sources").get_by_role("link").first).to_be_visible()


def test_overlong_message_is_refused_in_french_and_kept_in_the_input(page: Page) -> None:
    open_with_keyboard(page)
    question_box = page.get_by_label("Votre question")
    too_long = ("Bonjour, je voudrais savoir comment refaire ma carte d'identité. " * 20)[:1200]

    question_box.fill(too_long)
    expect(page.get_by_text("1200 / 1000 caractères")).to_be_visible()
    page.keyboard.press("Enter")

    expect(page.get_by_role("alert")).to_contain_text("trop long")
    expect(question_box).to_have_value(too_long)
    assert_accessible(page, "the widget refusing an over-long message")
    expect(page.get_by_role("log").get_by_role("article")).to_have_count(0)
    expect(page.get_by_role("button", name="Envoyer")).to_be_enabled()


def test_the_demo_page_passes_the_audit_and_names_the_microphone_in_french(page: Page) -> None:
    assert_accessible(page, "the demo page, widget closed")
    open_with_keyboard(page)
    assert_accessible(page, "the demo page, widget open")

    microphone = page.get_by_role("button", name="Parler à l'assistant (micro)")
    expect(microphone).to_be_visible()
    expect(microphone).to_have_attribute("aria-pressed", "false")


def test_escape_closes_the_panel_and_gives_focus_back(page: Page) -> None:
    open_with_keyboard(page)

    page.keyboard.press("Escape")

    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.get_by_role("button", name="Une question ? Écrivez-nous")).to_be_focused()


def test_the_agent_button_up_front_sends_a_request_that_is_handed_off(page: Page) -> None:
    open_with_keyboard(page)
    page.get_by_label("Votre question").fill("un brouillon que je garde")
    button = page.get_by_role("button", name="Parler à un agent")
    expect(button).to_be_visible()  # offered before any question

    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/messages")) as sent:
        button.click()
    assert "parler à un agent" in sent.value.post_data_json["content"]

    answer = answers(page).last
    expect(answer).to_have_attribute("aria-busy", "false", timeout=ANSWER_TIMEOUT_MS)
    expect(answer.locator(".cc-bubble")).to_have_text(
        re.compile("Je transmets notre conversation à un agent|ne sont pas disponibles")
    )
    expect(page.get_by_label("Votre question")).to_have_value("un brouillon que je garde")
    expect(answer.get_by_role("button", name="Réponse utile")).to_have_count(0)  # no answer


def test_a_resident_says_an_answer_was_wrong_and_why(page: Page) -> None:
    open_with_keyboard(page)
    page.get_by_label("Votre question").fill(QUESTION)
    page.keyboard.press("Enter")
    answer = answers(page).last
    expect(answer).to_have_attribute("aria-busy", "false", timeout=ANSWER_TIMEOUT_MS)

    feedback = answer.get_by_role("group", name="Cette réponse vous a-t-elle aidé ?")
    with page.expect_response(lambda r: r.url.endswith("/feedback")) as first:
        feedback.get_by_role("button", name="Réponse pas utile").click()
    assert first.value.status == 201
    expect(feedback.get_by_role("button", name="Réponse pas utile")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert_accessible(page, "the widget's feedback form under an answer")
    feedback.get_by_label("Qu'est-ce qui ne va pas ? (facultatif)").select_option(
        label="Sources obsolètes"
    )
    feedback.get_by_label("Commentaire (facultatif, sans données personnelles)").fill(
        "Le tarif indiqué a changé."
    )
    with page.expect_request(lambda r: r.url.endswith("/feedback")) as second:
        feedback.get_by_role("button", name="Envoyer mon avis").click()
    assert second.value.post_data_json == {
        "rating": "down",
        "reason": "obsolete_sources",
        "comment": "Le tarif indiqué a changé.",
    }
    expect(feedback.get_by_role("status")).to_have_text(re.compile("Merci pour votre avis"))

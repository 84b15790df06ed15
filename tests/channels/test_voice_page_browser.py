"""The voice page (/voix) in a real browser (Debian's Chromium): what a resident finds before
switching the microphone on passes the accessibility audit (tests/accessibility.py), and its
content sits in the page's main landmark, where a screen reader's shortcut leads. It says what
the chat says: the same AI notice, in the town's look (shared/pages.css).

The spoken conversation itself, with a real clip on Chromium's fake microphone, is in
test_voice_page_microphone.py (it needs its own Chromium)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from contact_center.conversation.engine import AI_NOTICE
from tests.accessibility import assert_accessible
from tests.conftest import require_module

if TYPE_CHECKING:
    from playwright.sync_api import Browser

sync_api = require_module("playwright.sync_api", "Playwright is not installed")
expect = sync_api.expect

pytestmark = pytest.mark.browser


def test_the_voice_page_passes_the_accessibility_audit(
    browser: Browser, live_server_url: str
) -> None:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server_url}/voix")

    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Parler à l'assistant de la commune")
    expect(main.get_by_role("button", name="Activer le micro")).to_be_visible()
    expect(main.get_by_role("button", name="Parler à un agent")).to_be_visible()
    expect(main.get_by_role("button", name="Continuer par écrit")).to_be_visible()
    # The chat's AI notice, word for word, before anything is said.
    expect(main.get_by_role("note")).to_have_text(AI_NOTICE)
    # The town's look: the State's blue on the buttons (shared/pages.css), not the browser's.
    activate = main.get_by_role("button", name="Activer le micro")
    assert activate.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(0, 0, 145)"
    assert_accessible(page, "the voice page")
    context.close()

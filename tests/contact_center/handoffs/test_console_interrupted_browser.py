"""The console in Debian's Chromium when its live events are lost (Redis gone), then back.

The app's Redis is reached through a proxy the test cuts
(:class:`~contact_center.testing.tcp_proxy.CuttableProxy` in front of the system Redis). An agent
has a resident's conversation open; Redis is lost: the console says « Suivi en direct
interrompu » in a status region (read out by screen readers) and passes the accessibility audit
(tests/accessibility.py); the resident writes meanwhile (answered, stored, no event published);
Redis comes back: the console says it follows live again and shows the resident's message,
without the agent reloading the page. Real app under uvicorn, SQLite, keyword routing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contact_center.services import Services
from contact_center.testing.chat_harness import TEST_PASSWORD, ChatHarness
from contact_center.testing.tcp_proxy import CuttableProxy
from retrieval.embeddings import Embedder
from tests.accessibility import assert_accessible
from tests.conftest import require_module, unavailable
from tests.contact_center.handoffs.console_support import (
    AGENT_EMAIL,
    console_services,
    serve_console,
)

sync_api = require_module("playwright.sync_api", "Playwright is not installed")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]

REDIS = ("127.0.0.1", 6379)
#: A database of its own for the rate limits' keys (pub/sub channels are server-wide).
REDIS_DB = 13
TIMEOUT_MS = 30_000
MEANWHILE = "Le banc du square des Tilleuls est toujours cassé."


@pytest.fixture
def redis_proxy() -> Iterator[CuttableProxy]:
    """The system Redis behind a proxy that the test cuts."""
    import redis

    client = redis.Redis(*REDIS, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis is not reachable on {REDIS[0]}:{REDIS[1]} ({exc})")
    finally:
        client.close()
    with CuttableProxy(REDIS) as proxy:
        yield proxy


@pytest.fixture
def base_url(
    tmp_path: Path, indexed_qdrant: Path, embedder: Embedder, redis_proxy: CuttableProxy
) -> Iterator[str]:
    services: Services = console_services(
        tmp_path,
        indexed_qdrant,
        f"sqlite:///{tmp_path / 'cc.db'}",
        embedder,
        redis={"url": f"redis://127.0.0.1:{redis_proxy.port}/{REDIS_DB}"},
    )
    with serve_console(services) as url:
        yield url


@pytest.fixture
def agent(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(locale="fr-FR", viewport={"width": 900, "height": 860})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{base_url}/console")
    page.get_by_label("Adresse électronique", exact=True).fill(AGENT_EMAIL)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text("Camille Martin (agent)")).to_be_visible()
    yield page
    context.close()


def test_redis_lost_the_console_says_so_and_shows_what_came_meanwhile_once_back(
    agent: Page, base_url: str, redis_proxy: CuttableProxy
) -> None:
    live = agent.get_by_role("status").filter(has_text=re.compile("en direct"))
    expect(live).to_have_text("Mise à jour en direct.")
    resident = ChatHarness(httpx.Client(base_url=base_url, timeout=60))
    assert resident.send("Je veux parler à un agent").done["action"]
    row = agent.locator("#queue-rows tr").filter(has_text="Demande de l'usager")
    row.get_by_role("button", name=re.compile("^Ouvrir la conversation")).click()
    agent.get_by_role("button", name="Prendre en charge").click()
    messages = agent.locator("#messages")
    expect(messages).to_contain_text("Je veux parler à un agent")

    agent.evaluate("window.sameDocument = true")  # gone if the page were reloaded
    redis_proxy.cut()
    expect(live).to_contain_text("Suivi en direct interrompu", timeout=TIMEOUT_MS)
    assert_accessible(agent, "the console, live events interrupted")
    turn = resident.send(MEANWHILE)
    assert turn.status_code == 200 and turn.of("error") == []

    redis_proxy.restore()
    expect(live).to_have_text("Mise à jour en direct.", timeout=TIMEOUT_MS)
    expect(messages).to_contain_text(MEANWHILE, timeout=TIMEOUT_MS)
    assert agent.evaluate("window.sameDocument === true")

"""The contact confirmation pages in Debian's Chromium, opened from the message's own link.

A case is filed the way the assistant files it, giving a neighbour's e-mail address; the
dispatcher sends the confirmation request (fake notifier); the neighbour opens its link: a
French page with the town's look (the shared style sheet), audited by axe-core
(tests/accessibility.py), whose button confirms (the held receipt then goes out) or refuses
(the address is erased from the case). Reopening a used link says so. Real app under uvicorn
on the address the messages link to, SQLite, fake embeddings and LLM.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from contact_center.app import create_app
from contact_center.communes.creation import NewCommune, create_commune
from contact_center.gru.cases import CaseContact, CaseDraft
from contact_center.services import Services
from contact_center.testing.fakes import FakeNotifier
from routing.testing.fakes import FakeRequestClassifier
from tests.accessibility import assert_accessible
from tests.conftest import listening_socket, make_settings, require_module, serve_app

sync_api = require_module("playwright.sync_api", "Playwright is not installed")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

pytestmark = pytest.mark.browser

NEIGHBOUR = "voisin@example.fr"
#: The shared look: the header's and the buttons' blue (--blue in /shared/pages.css).
BLUE = "rgb(0, 0, 145)"
LINKS = re.compile(r"https?://\S+/contact/(?:confirmer|refuser)/[A-Za-z0-9_-]+")


@dataclass
class Town:
    """The served app, its services, and its address (where its messages link to)."""

    services: Services
    url: str

    @property
    def notifier(self) -> FakeNotifier:
        notifier = self.services.notifier
        assert isinstance(notifier, FakeNotifier)
        return notifier


@pytest.fixture
def town(tmp_path: Path) -> Iterator[Town]:
    sock = listening_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = make_settings(
        tmp_path,
        app={"public_url": url},
        embeddings={"backend": "fake"},
        notifications={"backend": "fake", "dispatch_interval_s": 0},
    )
    services = Services(settings, classifier=FakeRequestClassifier())
    with serve_app(create_app(services=services), sock=sock):
        yield Town(services, url)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="fr-FR")
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    context.close()


def file_giving_the_neighbour(town: Town, tenant_id: str = "demo") -> tuple[str, dict[str, str]]:
    """File a report in a conversation, giving the neighbour's address; dispatch what is due.
    The case's id, and the links of the confirmation request the neighbour received."""
    conversation = httpx.post(f"{town.url}/api/v1/conversations", json={"tenant_id": tenant_id})
    draft = CaseDraft(
        tenant_id=tenant_id,
        service="voirie",
        channel="web",
        summary="Lampadaire en panne",
        description="Le lampadaire devant chez mon voisin ne s'allume plus.",
        location="12 rue des Lilas",
        conversation_id=conversation.json()["id"],
        contact=CaseContact(consent=True, email=NEIGHBOUR),
        actor="assistant",
    )
    case_id = town.services.gru.file_case(draft).case_id
    town.services.dispatcher.dispatch_due()
    (request,) = [m for m in town.notifier.sent if m.recipient == NEIGHBOUR]
    links = {link.split("/")[-2]: link for link in LINKS.findall(request.body)}
    assert set(links) == {"confirmer", "refuser"} and links["confirmer"].startswith(town.url)
    return case_id, links


def has_the_towns_look(page: Page, name: str = "Val-Fleuri") -> None:
    header = page.get_by_role("banner")
    expect(header).to_have_text(name)
    expect(header).to_have_css("background-color", BLUE)
    assert page.evaluate("document.documentElement.lang") == "fr"


def test_the_neighbour_confirms_from_the_link_and_gets_the_receipt(page: Page, town: Town) -> None:
    _, links = file_giving_the_neighbour(town)
    assert len(town.notifier.sent) == 1  # the request alone: the receipt waits

    page.goto(links["confirmer"])
    expect(page).to_have_title("Confirmer vos coordonnées – Val-Fleuri")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer vos coordonnées")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Une demande a été déposée auprès de Val-Fleuri")
    expect(main).to_contain_text("votre adresse électronique")
    expect(main).not_to_contain_text("Lampadaire")  # never what the request says
    has_the_towns_look(page)
    button = page.get_by_role("button", name="Je confirme")
    expect(button).to_have_css("background-color", BLUE)
    assert_accessible(page, "the contact confirmation page")
    town.services.dispatcher.dispatch_due()
    assert len(town.notifier.sent) == 1  # opening the link answers nothing

    button.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Coordonnées confirmées")
    expect(main).to_contain_text("vous recevrez les prochains messages de la commune")
    has_the_towns_look(page)
    assert_accessible(page, "the contact confirmation page, confirmed")
    town.services.dispatcher.dispatch_due()
    assert [m.recipient for m in town.notifier.sent] == [NEIGHBOUR, NEIGHBOUR]
    assert "a bien été enregistrée" in (town.notifier.sent[-1].subject or "")

    page.goto(links["refuser"])  # the same request's other link: already answered
    expect(page.get_by_role("heading", level=1)).to_have_text("Lien déjà utilisé")
    expect(page.get_by_role("button")).to_have_count(0)


def test_the_neighbour_refuses_from_the_link_and_is_erased_from_the_case(
    page: Page, town: Town
) -> None:
    case_id, links = file_giving_the_neighbour(town)

    page.goto(links["refuser"])
    expect(page).to_have_title("Refuser les messages de cette demande – Val-Fleuri")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Refuser les messages de cette demande"
    )
    main = page.get_by_role("main")
    expect(main).to_contain_text("vos coordonnées sont effacées de la demande")
    has_the_towns_look(page)
    assert_accessible(page, "the contact refusal page")

    page.get_by_role("button", name="Je refuse").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Refus enregistré")
    expect(main).to_contain_text("vous ne recevrez plus aucun message")
    has_the_towns_look(page)
    assert_accessible(page, "the contact refusal page, refused")
    view = town.services.cases.get("demo", case_id)
    assert view is not None and (view.contact is None or view.contact.email is None)
    town.services.dispatcher.dispatch_due()
    assert [m.recipient for m in town.notifier.sent] == [NEIGHBOUR]  # the request, nothing since

    page.goto(links["confirmer"])  # the same request's other link: already answered
    expect(page.get_by_role("heading", level=1)).to_have_text("Lien déjà utilisé")


def test_the_pages_of_a_commune_created_at_run_time_bear_its_name(page: Page, town: Town) -> None:
    services = town.services
    new = NewCommune("bellerive", "Ville de Bellerive", "admin@bellerive.example")
    create_commune(new, services.communes, services.catalogue, services.auth.accounts,
                   services.auth.audit, actor="platform-admin")  # fmt: skip
    _, links = file_giving_the_neighbour(town, "bellerive")
    assert "Ville de Bellerive" in town.notifier.sent[-1].body

    page.goto(links["confirmer"])
    expect(page).to_have_title("Confirmer vos coordonnées – Ville de Bellerive")
    expect(page.get_by_role("main")).to_contain_text("auprès de Ville de Bellerive")
    has_the_towns_look(page, "Ville de Bellerive")
    page.get_by_role("button", name="Je confirme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Coordonnées confirmées")
    has_the_towns_look(page, "Ville de Bellerive")

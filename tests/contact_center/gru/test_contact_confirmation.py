"""A contact given for a case gets one confirmation request and nothing else until it confirms.

Through the real app on SQLite and PostgreSQL with the fake notifier: cases are filed the way
the assistant files them (a conversation, actor ``assistant``), the contact answers on the
public ``/contact`` pages, the dispatcher sends what the outbox lets out.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from contact_center.app import create_app
from contact_center.db import utcnow
from contact_center.gru.cases import CaseContact, CaseDraft
from contact_center.gru.schema import ContactConfirmation, Notification
from contact_center.services import Services
from contact_center.testing.fakes import FakeNotifier
from routing.testing.fakes import FakeRequestClassifier
from tests.conftest import make_settings
from tests.contact_center.gru.contact_support import confirmation_tokens

EMAIL = "voisin@example.fr"
PHONE = "+33612345678"


@pytest.fixture
def services(tmp_path: Path, database_url: str) -> Services:
    settings = make_settings(
        tmp_path,
        database={"url": database_url},
        embeddings={"backend": "fake"},
        notifications={"backend": "fake", "dispatch_interval_s": 0, "max_per_contact_per_day": 3},
        app={"public_url": "https://contact.val-fleuri.example"},
    )
    return Services(settings, classifier=FakeRequestClassifier())


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services)) as client:
        yield client


def file_in_conversation(client: TestClient, services: Services, **contact: str) -> str:
    """File a report the way the assistant does, with the contact the resident gave."""
    conversation = client.post("/api/v1/conversations", json={"tenant_id": "demo"}).json()
    draft = CaseDraft(
        tenant_id="demo",
        service="voirie",
        channel="web",
        summary="Lampadaire en panne",
        description="Le lampadaire devant chez mon voisin ne s'allume plus.",
        location="12 rue des Lilas",
        conversation_id=conversation["id"],
        contact=CaseContact(consent=True, **contact),
        actor="assistant",
    )
    return services.gru.file_case(draft).case_id


def sent(services: Services) -> list[tuple[str, str]]:
    """Dispatch what is due; every message sent so far as (kind of text, recipient)."""
    services.dispatcher.dispatch_due()
    notifier = services.notifier
    assert isinstance(notifier, FakeNotifier)
    return [(message.channel, message.recipient) for message in notifier.sent]


def outbox(services: Services) -> list[tuple[str, str, str, str | None]]:
    with services.database.session() as session:
        rows = session.scalars(select(Notification).order_by(Notification.created_at))
        return [(row.kind, row.recipient, row.status, row.held_reason) for row in rows]


def advance(services: Services, case_id: str, *statuses: str) -> None:
    reasons = {"waiting_for_resident": "Merci de préciser le numéro du lampadaire."}
    for status in statuses:
        services.cases.transition(
            "demo", case_id, status, actor="agent-voirie", reason=reasons.get(status)
        )


def test_a_contact_given_in_a_conversation_gets_one_request_and_nothing_else(
    client: TestClient, services: Services
) -> None:
    case_id = file_in_conversation(client, services, email=EMAIL, phone="06 12 34 56 78")

    assert sent(services) == [("email", EMAIL), ("sms", PHONE)]
    notifier = services.notifier
    assert isinstance(notifier, FakeNotifier)
    for message in notifier.sent:
        body = message.body
        assert "Val-Fleuri" in body and "assistant en ligne" in body
        assert "https://contact.val-fleuri.example/contact/confirmer/" in body
        assert "https://contact.val-fleuri.example/contact/refuser/" in body
        # Never what the request says, nor where.
        for secret in ("Lampadaire", "lampadaire", "Lilas", "voisin ne"):
            assert secret not in body
    email = notifier.sent[0]
    assert email.subject == "Val-Fleuri : confirmez-vous être le contact d'une demande ?"
    assert "Sans réponse de votre part, vous ne recevrez aucun autre message" in email.body
    # The registration receipt waits; a status change waits too; the outbox says why.
    advance(services, case_id, "acknowledged")
    assert len(sent(services)) == 2
    held = [(kind, status, why) for kind, _, status, why in outbox(services)]
    assert held.count(("registration", "held", "contact_unconfirmed")) == 2
    assert held.count(("acknowledgement", "held", "contact_unconfirmed")) == 2
    # The sent requests keep their text, not their tokens.
    assert confirmation_tokens(services.database) == []


def test_once_confirmed_the_held_receipt_and_the_next_notices_go_out(
    client: TestClient, services: Services
) -> None:
    case_id = file_in_conversation(client, services, email=EMAIL)
    (token,) = confirmation_tokens(services.database)
    sent(services)

    page = client.get(f"/contact/confirmer/{token}")
    assert page.status_code == 200 and 'lang="fr"' in page.text
    assert "Confirmer vos coordonnées" in page.text
    assert f'<form method="post" action="/contact/confirmer/{token}">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert len(sent(services)) == 1  # opening the link answers nothing
    done = client.post(f"/contact/confirmer/{token}")
    assert done.status_code == 200 and "Coordonnées confirmées" in done.text

    notifier = services.notifier
    assert isinstance(notifier, FakeNotifier)
    assert len(sent(services)) == 2
    assert "a bien été enregistrée" in (notifier.sent[-1].subject or "")
    advance(services, case_id, "acknowledged")
    assert len(sent(services)) == 3
    assert "Accusé de réception" in (notifier.sent[-1].subject or "")
    view = services.cases.get("demo", case_id)
    assert view is not None and view.history[1].kind == "contact_confirmed"
    assert EMAIL not in str(view.history)


def test_after_a_refusal_nothing_is_sent_and_the_contact_is_erased(
    client: TestClient, services: Services
) -> None:
    case_id = file_in_conversation(client, services, email=EMAIL, phone=PHONE)
    email_token = confirmation_tokens(services.database, EMAIL)[0]
    sent(services)

    assert "Je refuse" in client.get(f"/contact/refuser/{email_token}").text
    done = client.post(f"/contact/refuser/{email_token}")
    assert done.status_code == 200 and "effacées de la demande" in done.text

    view = services.cases.get("demo", case_id)
    assert view is not None and view.summary == "Lampadaire en panne"  # the case stays
    assert view.contact is not None
    assert (view.contact.email, view.contact.phone) == (None, PHONE)
    assert [entry.kind for entry in view.history] == ["created", "contact_refused"]
    assert all(recipient != EMAIL for _, recipient, _, _ in outbox(services))
    advance(services, case_id, "acknowledged", "resolved")
    assert len(sent(services)) == 2  # the two requests, nothing since
    # A later request giving the same address drops it: nothing is ever sent to it again.
    again = file_in_conversation(client, services, email=EMAIL)
    assert len(sent(services)) == 2
    later = services.cases.get("demo", again)
    assert later is not None and later.contact is None
    assert later.history[0].changes["contact_refused_earlier"] == ["email"]


def test_the_notice_over_the_daily_limit_is_held_and_recorded(
    client: TestClient, services: Services
) -> None:
    case_id = file_in_conversation(client, services, email=EMAIL)
    (token,) = confirmation_tokens(services.database)
    client.post(f"/contact/confirmer/{token}")
    # The request, the released receipt and the acknowledgement: three, the day's share.
    advance(services, case_id, "acknowledged", "waiting_for_resident")
    assert len(sent(services)) == 3
    kinds = [(kind, status, why) for kind, _, status, why in outbox(services)]
    assert kinds[-1] == ("waiting_for_resident", "held", "rate_limited")
    view = services.cases.get("demo", case_id)
    assert view is not None and view.history[-1].changes == {"notices": [], "held": ["email"]}


def test_wrong_expired_and_used_links_get_a_french_page(
    client: TestClient, services: Services
) -> None:
    file_in_conversation(client, services, email=EMAIL, phone=PHONE)
    first, second = confirmation_tokens(services.database)

    for method in ("GET", "POST"):
        for token in ("pas-un-jeton", "x" * 5000):
            wrong = client.request(method, f"/contact/confirmer/{token}")
            assert wrong.status_code == 404 and "Lien introuvable" in wrong.text
            assert wrong.headers["content-type"].startswith("text/html")
    client.post(f"/contact/confirmer/{first}")
    for path in (f"/contact/confirmer/{first}", f"/contact/refuser/{first}"):
        used = client.post(path)
        assert used.status_code == 410 and "Lien déjà utilisé" in used.text
    with services.database.session() as session:
        session.execute(
            update(ContactConfirmation)
            .where(ContactConfirmation.status == "pending")
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    for method in ("GET", "POST"):
        expired = client.request(method, f"/contact/refuser/{second}")
        assert expired.status_code == 410 and "Lien expiré" in expired.text

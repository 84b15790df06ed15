"""Two communes served by one instance, end to end, with nothing crossing between them.

Val-Fleuri (the demo commune, from the settings) is the platform's commune; its administrator
creates Bellerive at run time through ``POST /api/v1/communes``. Each town's administrator
publishes its own page about its market; a resident of each town, through the widget's
conversation API bound to their commune, asks the same question and gets their own town's page;
each town files a case and asks for a person, and each town's agents see only their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.testing.chat_harness import ChatHarness, sign_in
from retrieval.embeddings import Embedder
from routing.classifier import RequestClassifier
from tests.conftest import conversation_services

TOWN_B = "bellerive"
OPEN = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
QUESTION = "Quels jours a lieu le marché de plein air ?"


def market_page(doc_id: str, town: str, days: str, place: str) -> dict[str, Any]:
    """A town's own page about its open-air market, published at once."""
    return {
        "meta": {
            "id": doc_id,
            "title": f"Marché de plein air de {town}",
            "service": "affaires_generales",
            "url": f"https://www.{doc_id}.example/marche",
        },
        "body": f"# Marché de plein air de {town}\n\n## Jours et horaires\n\n"
        f"Le marché de plein air de {town} se tient {days}, de 7 h 30 à 13 h, {place}.\n",
        "publish": True,
    }


PAGE_A = market_page("vf-marche", "Val-Fleuri", "chaque mercredi", "place des Glycines")
PAGE_B = market_page("bl-marche", "Bellerive", "chaque jeudi", "quai des Tanneurs")


@pytest.fixture
def app(
    tmp_path: Path,
    indexed_qdrant: Path,
    database_url: str,
    embedder: Embedder,
    request_classifier: RequestClassifier,
) -> Iterator[Any]:
    services = conversation_services(
        tmp_path,
        indexed_qdrant,
        database_url,
        embedder,
        request_classifier,
        overrides={
            "app": {"tenants": {"demo": "Ville de Val-Fleuri"}},
            "notifications": {"backend": "fake", "dispatch_interval_s": 0},
        },
    )
    assert services.engine.desk is not None
    services.engine.desk.clock = lambda: OPEN  # a Wednesday morning: agents are there
    application = create_app(services=services)
    with TestClient(application):
        yield application


def sign_in_with(app: Any, tenant: str, email: str, password: str) -> TestClient:
    client = TestClient(app)
    response = client.post(
        "/api/v1/auth/login", json={"email": email, "password": password, "tenant": tenant}
    )
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def create_town_b(app: Any) -> TestClient:
    """The platform administrator creates Bellerive; its first administrator signs in."""
    platform = TestClient(app)
    sign_in(platform, role="admin")
    created = platform.post(
        "/api/v1/communes",
        json={"id": TOWN_B, "name": "Ville de Bellerive", "admin_email": "admin@bellerive.fr"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["commune"]["id"] == TOWN_B and "etat_civil" in body["services"]
    listed = platform.get("/api/v1/communes").json()
    assert [commune["id"] for commune in listed] == [TOWN_B, "demo"]
    return sign_in_with(app, TOWN_B, "admin@bellerive.fr", body["initial_password"])


def source_ids(turn: Any) -> set[str]:
    return {source["id"] for source in turn.done["sources"]}


def test_two_communes_are_served_by_one_instance_with_nothing_crossing(app: Any) -> None:
    anyone = TestClient(app)
    refused = anyone.post("/api/v1/conversations", json={"tenant_id": TOWN_B})
    assert refused.status_code == 404
    assert refused.json()["message"] == "Cette commune n'est pas desservie."

    admin_b = create_town_b(app)
    # A commune's own administrator neither lists nor creates communes.
    assert admin_b.get("/api/v1/communes").status_code == 403
    other = {"id": "ville-c", "name": "C", "admin_email": "a@c.fr"}
    assert admin_b.post("/api/v1/communes", json=other).status_code == 403

    admin_a = TestClient(app)
    sign_in(admin_a, role="admin")
    for client, tenant, page in ((admin_a, "demo", PAGE_A), (admin_b, TOWN_B, PAGE_B)):
        created = client.post(f"/api/v1/tenants/{tenant}/kb/documents", json=page)
        assert created.status_code == 201, created.text
    # Bellerive's administrator cannot write into Val-Fleuri's knowledge base.
    into_a = admin_b.post("/api/v1/tenants/demo/kb/documents", json=PAGE_B)
    assert into_a.status_code == 404

    # Residents, through the widget's conversation API bound to their commune.
    resident_a, resident_b = ChatHarness(anyone, "demo"), ChatHarness(anyone, TOWN_B)
    turn_a, turn_b = resident_a.send(QUESTION), resident_b.send(QUESTION)
    assert "vf-marche" in source_ids(turn_a) and "bl-marche" not in source_ids(turn_a)
    assert "bl-marche" in source_ids(turn_b) and "vf-marche" not in source_ids(turn_b)
    assert "mercredi" in turn_a.done["answer"] and "jeudi" not in turn_a.done["answer"]
    assert "jeudi" in turn_b.done["answer"] and "mercredi" not in turn_b.done["answer"]

    # A case filed in each commune: each commune's agents list only their own.
    supervisor_a, supervisor_b = TestClient(app), TestClient(app)
    sign_in(supervisor_a, role="supervisor")
    sign_in(supervisor_b, role="supervisor", tenant_id=TOWN_B)
    filed = {}
    for client, tenant in ((supervisor_a, "demo"), (supervisor_b, TOWN_B)):
        case = {"service": "voirie", "summary": f"Nid-de-poule ({tenant})"}
        response = client.post(f"/api/v1/tenants/{tenant}/cases", json=case)
        assert response.status_code == 201, response.text
        filed[tenant] = response.json()["case_id"]
    listed_a = supervisor_a.get("/api/v1/tenants/demo/cases").json()["items"]
    listed_b = supervisor_b.get(f"/api/v1/tenants/{TOWN_B}/cases").json()["items"]
    assert [case["id"] for case in listed_a] == [filed["demo"]]
    assert [case["id"] for case in listed_b] == [filed[TOWN_B]]
    assert supervisor_a.get(f"/api/v1/tenants/{TOWN_B}/cases").status_code == 404

    # Both residents ask for a person: each console shows its own commune's conversation only.
    for resident in (resident_a, resident_b):
        assert resident.send("Je veux parler à un agent").done["action"] == "handoff"
    queue_a = supervisor_a.get("/api/v1/console/queue").json()["items"]
    queue_b = supervisor_b.get("/api/v1/console/queue").json()["items"]
    assert [item["conversation_id"] for item in queue_a] == [resident_a.id]
    assert [item["conversation_id"] for item in queue_b] == [resident_b.id]
    seen_from_a = supervisor_a.get(f"/api/v1/console/conversations/{resident_b.id}")
    assert seen_from_a.status_code == 404

"""The cases REST API through the real app: agents' endpoints and the public tracking lookup.

The app runs with its real database (SQLite, then PostgreSQL), the fake notifier (the outbox is
what matters here), the fake embedder, LLM and request classifier (nothing is answered).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.services import Services
from contact_center.testing.chat_harness import sign_in
from contact_center.testing.fakes import FakeNotifier
from routing.service_definitions import DEMO_CATALOGUE
from routing.testing.fakes import FakeRequestClassifier
from tests.conftest import make_settings

BASE = "/api/v1/tenants/demo"


@pytest.fixture
def services(tmp_path: Path, database_url: str) -> Services:
    settings = make_settings(
        tmp_path,
        database={"url": database_url},
        embeddings={"backend": "fake"},
        notifications={"backend": "fake", "dispatch_interval_s": 0},
        chat={"rate_limit_burst": 4, "rate_limit_per_minute": 1},
    )
    return Services(settings, classifier=FakeRequestClassifier())


@pytest.fixture
def api(services: Services) -> Iterator[TestClient]:
    """The app, signed in as a supervisor of the demo commune."""
    with TestClient(create_app(services=services)) as client:
        # Only the demo commune has a default catalogue; the other one gets the same services.
        services.catalogue.seed("autreville", DEMO_CATALOGUE.values())
        sign_in(client, role="supervisor")
        yield client


@pytest.fixture
def other(api: TestClient) -> TestClient:
    """The same app, signed in as a supervisor of the other commune."""
    client = TestClient(api.app)
    sign_in(client, role="supervisor", tenant_id="autreville")
    return client


def agent_id(api: TestClient) -> str:
    return str(api.get("/api/v1/auth/me").json()["agent"]["id"])


def new_case(api: TestClient, tenant: str = "demo", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "service": "voirie",
        "summary": "Nid-de-poule dangereux",
        "description": "Un trou profond sur la chaussée devant l'école.",
        "location": "Avenue de la Gare",
        "contact": {"email": "jeanne@example.fr", "consent": True},
    }
    body.update(overrides)
    response = api.post(f"/api/v1/tenants/{tenant}/cases", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_an_agent_files_a_case_and_reads_it_back(api: TestClient, services: Services) -> None:
    receipt = new_case(api, channel="phone", priority="high")
    assert receipt["number"].startswith(str(receipt["due_date"])[:4] + "-")
    assert receipt["status"] == "received" and receipt["status_label"] == "Reçue"
    assert receipt["contact_kept"] is True
    assert receipt["tracking_code"] in receipt["message"]

    case = api.get(f"{BASE}/cases/{receipt['case_id']}").json()
    assert case["channel"] == "phone" and case["priority"] == "high"
    assert case["contact"] == {"name": None, "email": "jeanne@example.fr", "phone": None}
    assert case["service_name"] == "Service Voirie et espaces publics"
    assert [event["kind"] for event in case["history"]] == ["created"]
    assert case["history"][0]["actor"] == agent_id(api)
    assert "tracking_code" not in case

    services.dispatcher.dispatch_due()
    notifier = services.notifier
    assert isinstance(notifier, FakeNotifier)
    # A contact typed by an agent is not proved to be the resident's: it is asked first.
    assert [m.subject for m in notifier.sent] == [
        "Val-Fleuri : confirmez-vous être le contact d'une demande ?"
    ]


def test_status_changes_and_invalid_ones(api: TestClient) -> None:
    case_id = new_case(api)["case_id"]
    url = f"{BASE}/cases/{case_id}/status"

    refused = api.post(url, json={"status": "closed"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_transition"
    assert "ne peut pas passer au statut « Clôturée »" in refused.json()["message"]

    assert api.post(url, json={"status": "acknowledged"}).status_code == 200
    missing_reason = api.post(url, json={"status": "rejected"})
    assert missing_reason.status_code == 422 and "motif" in missing_reason.json()["message"]
    done = api.post(url, json={"status": "resolved", "reason": "Trou rebouché"}).json()
    assert done["status"] == "resolved" and done["citizen_status_label"] == "Traitée"
    assert [(e["from_status"], e["to_status"]) for e in done["history"][1:]] == [
        ("received", "acknowledged"),
        ("acknowledged", "resolved"),
    ]
    assert done["history"][-1]["reason"] == "Trou rebouché"
    unknown = api.post(url, json={"status": "archived"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "invalid_request"


def test_patch_priority_assignment_and_summary(api: TestClient) -> None:
    case_id = new_case(api)["case_id"]
    patched = api.patch(
        f"{BASE}/cases/{case_id}",
        json={"priority": "urgent", "assigned_to": "agent-voirie", "reason": "Près d'une école"},
    ).json()
    assert (patched["priority"], patched["assigned_to"]) == ("urgent", "agent-voirie")
    assert patched["history"][-1]["changes"]["priority"] == ["normal", "urgent"]
    assert patched["history"][-1]["reason"] == "Près d'une école"
    empty = api.patch(f"{BASE}/cases/{case_id}", json={"summary": "  "})
    assert empty.status_code == 422 and "objet" in empty.json()["message"]


def test_list_filters_and_pages(api: TestClient, other: TestClient) -> None:
    for n in range(3):
        new_case(api, summary=f"Voirie {n}")
    new_case(api, service="proprete_dechets", summary="Dépôt sauvage")
    new_case(other, tenant="autreville", summary="Ailleurs")

    page = api.get(f"{BASE}/cases", params={"limit": 2}).json()
    assert page["total"] == 4 and len(page["items"]) == 2
    assert page["items"][0]["summary"] == "Dépôt sauvage"
    voirie = api.get(f"{BASE}/cases", params={"service": "voirie", "offset": 1}).json()
    assert voirie["total"] == 3 and len(voirie["items"]) == 2
    received = api.get(f"{BASE}/cases", params={"status": "received"}).json()
    assert received["total"] == 4
    assert api.get(f"{BASE}/cases", params={"limit": 500}).status_code == 422


def test_cases_stay_in_their_commune(api: TestClient, other: TestClient) -> None:
    case_id = new_case(api)["case_id"]
    elsewhere = other.get(f"/api/v1/tenants/autreville/cases/{case_id}")
    assert elsewhere.status_code == 404 and elsewhere.json()["message"] == "Demande introuvable."
    moved = other.post(
        f"/api/v1/tenants/autreville/cases/{case_id}/status", json={"status": "acknowledged"}
    )
    assert moved.status_code == 404
    unknown = api.get("/api/v1/tenants/nulle-part/cases")
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_tenant"


def test_the_public_lookup_shows_only_the_citizen_view(api: TestClient) -> None:
    receipt = new_case(api)
    response = api.get(f"{BASE}/suivi/{receipt['tracking_code'].lower().replace('-', '')}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert set(response.json()) == {
        "tracking_code", "service_name", "status_label", "updated_on", "due_date",
    }  # fmt: skip
    assert response.json()["status_label"] == "Reçue"
    assert response.json()["tracking_code"] == receipt["tracking_code"]
    for private in ("Nid-de-poule", "jeanne", "Gare", receipt["number"], receipt["case_id"]):
        assert private not in response.text


def test_wrong_codes_and_other_communes_codes_get_the_same_404(
    api: TestClient, other: TestClient
) -> None:
    demo_code = new_case(api)["tracking_code"]
    other_code = new_case(other, tenant="autreville")["tracking_code"]
    answers = [
        api.get(f"{BASE}/suivi/{other_code}"),
        api.get(f"/api/v1/tenants/autreville/suivi/{demo_code}"),
        api.get(f"{BASE}/suivi/ABCD-EFGH-JK"),
    ]
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert {a.text for a in answers} == {
        '{"code":"not_found","message":"Aucune demande ne correspond à ce code de suivi."}'
    }


def test_the_public_lookup_is_rate_limited(api: TestClient) -> None:
    codes = [api.get(f"{BASE}/suivi/ABCD-EFGH-{n:02d}").status_code for n in range(6)]
    assert codes[:4] == [404] * 4
    assert codes[4:] == [429, 429]
    limited = api.get(f"{BASE}/suivi/ABCD-EFGH-JK")
    assert "patienter" in limited.json()["message"] and int(limited.headers["retry-after"]) > 0


def test_the_openapi_schema_describes_the_cases_api(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    paths = schema["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/tenants/{tenant}/cases"])
    assert {"get", "patch"} <= set(paths["/api/v1/tenants/{tenant}/cases/{case_id}"])
    assert "/api/v1/tenants/{tenant}/suivi/{tracking_code}" in paths
    public = schema["components"]["schemas"]["CitizenStatusOut"]["properties"]
    assert set(public) == {
        "tracking_code", "service_name", "status_label", "updated_on", "due_date",
    }  # fmt: skip
    service = schema["components"]["schemas"]["CaseIn"]["properties"]["service"]
    assert "hors_commune" in service["enum"]


def test_agents_endpoints_need_a_signed_in_agent_of_the_commune(api: TestClient) -> None:
    anonymous = TestClient(api.app)
    assert anonymous.get(f"{BASE}/cases").status_code == 401
    assert anonymous.post(f"{BASE}/cases", json={"service": "voirie"}).status_code == 401
    agent = TestClient(api.app)
    signed = sign_in(agent, role="agent", services=("voirie",))
    created = new_case(agent)
    case = agent.get(f"{BASE}/cases/{created['case_id']}").json()
    assert case["history"][0]["actor"] == signed.agent["id"]
    assert agent.get("/api/v1/tenants/autreville/cases").status_code == 404
    del agent.headers["X-CSRF-Token"]
    assert agent.post(f"{BASE}/cases", json={"service": "voirie"}).status_code == 403
    # The resident's public lookup needs no sign-in.
    assert anonymous.get(f"{BASE}/suivi/{created['tracking_code']}").status_code == 200


def test_an_agent_works_only_on_the_cases_of_their_services(api: TestClient) -> None:
    """A voirie agent neither lists, reads, reprioritises nor closes a civil registry case;
    the supervisor sees the whole commune."""
    civil = new_case(
        api,
        service="etat_civil",
        summary="Acte de naissance",
        description="NIR 1 84 12 75 123 456 78",
        contact={"name": "Jeanne Martin", "email": "jeanne@example.fr", "consent": True},
    )
    road = new_case(api, summary="Trou dans la chaussée")
    voirie = TestClient(api.app)
    sign_in(voirie, role="agent", services=("voirie",))
    url = f"{BASE}/cases/{civil['case_id']}"

    listed = voirie.get(f"{BASE}/cases").json()
    assert [c["id"] for c in listed["items"]] == [road["case_id"]] and listed["total"] == 1
    filtered = voirie.get(f"{BASE}/cases", params={"service": "etat_civil"})
    assert filtered.status_code == 403 and filtered.json()["code"] == "other_service"
    read = voirie.get(url)
    assert read.status_code == 403
    assert "Jeanne" not in read.text and "NIR" not in read.text
    assert "service dont vous n'êtes pas membre" in read.json()["message"]
    assert voirie.patch(url, json={"priority": "low"}).status_code == 403
    rejected = voirie.post(f"{url}/status", json={"status": "rejected", "reason": "Non"})
    assert rejected.status_code == 403
    assert voirie.get(f"{BASE}/cases/{road['case_id']}").status_code == 200

    # Nothing changed: the supervisor still sees it received, at normal priority.
    case = api.get(url).json()
    assert (case["status"], case["priority"]) == ("received", "normal")
    assert api.get(f"{BASE}/suivi/{civil['tracking_code']}").json()["status_label"] == "Reçue"
    assert api.get(f"{BASE}/cases").json()["total"] == 2

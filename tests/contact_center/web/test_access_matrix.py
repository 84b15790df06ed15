"""Who may call what, generated from the OpenAPI description: a new operation without its
access rule fails here.

Every operation is either public (listed below, with why), a resident's own conversation
(its ``resident_token``), or private: anonymous callers get 401, an agent of another commune
404 on a commune's paths, and an agent of another service 403 on what belongs to a service.
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
from routing.service_definitions import DEMO_CATALOGUE
from routing.testing.fakes import FakeRequestClassifier
from tests.conftest import make_settings

#: Operations anyone may call, and why.
PUBLIC = {
    ("GET", "/healthz"): "liveness probe",
    ("GET", "/readyz"): "readiness probe",
    ("GET", "/metrics"): "aggregate counters, restricted at the proxy (README)",
    ("POST", "/api/v1/auth/login"): "signing in",
    ("GET", "/api/v1/auth/oidc/login"): "signing in through the town's SSO",
    ("GET", "/api/v1/auth/oidc/callback"): "signing in through the town's SSO",
    ("POST", "/api/v1/conversations"): "a resident opens a conversation",
    ("GET", "/api/v1/tenants/{tenant}/suivi/{tracking_code}"): "tracking code, rate-limited",
}
#: A resident's own conversation: its credential, never an agent's session.
RESIDENT = {
    ("GET", "/api/v1/conversations/{conversation_id}"),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"),
    ("GET", "/api/v1/conversations/{conversation_id}/events"),
    ("POST", "/api/v1/conversations/{conversation_id}/rating"),
    ("POST", "/api/v1/conversations/{conversation_id}/typing"),
    ("POST", "/api/v1/conversations/{conversation_id}/messages/{message_id}/feedback"),
}
#: What a voirie agent may not read: it belongs to another service.
OTHER_SERVICE = [
    ("GET", "/api/v1/tenants/{tenant}/cases/{case_id}", None),
    ("PATCH", "/api/v1/tenants/{tenant}/cases/{case_id}", {"priority": "low"}),
    ("POST", "/api/v1/tenants/{tenant}/cases/{case_id}/status", {"status": "acknowledged"}),
    ("GET", "/api/v1/conversations/{conversation_id}/records", None),
    ("GET", "/api/v1/console/conversations/{conversation_id}", None),
]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    settings = make_settings(
        tmp_path,
        embeddings={"backend": "fake"},
        notifications={"backend": "fake", "dispatch_interval_s": 0},
        chat={"rate_limit_burst": 100, "rate_limit_per_minute": 100},
        app={"tenants": {"demo": "Val-Fleuri", "autreville": "Autreville"}},
    )
    application = create_app(services=Services(settings, classifier=FakeRequestClassifier()))
    with TestClient(application):
        application.state.services.catalogue.seed("autreville", DEMO_CATALOGUE.values())
        yield application


def operations(app: Any) -> list[tuple[str, str]]:
    paths = app.openapi()["paths"]
    return sorted((method.upper(), path) for path, item in paths.items() for method in item)


def fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


@pytest.fixture
def ids(app: Any) -> dict[str, str]:
    """Real objects of the demo commune: a civil registry case, a conversation."""
    supervisor = TestClient(app)
    sign_in(supervisor, role="supervisor")
    case = supervisor.post(
        "/api/v1/tenants/demo/cases", json={"service": "etat_civil", "summary": "Acte"}
    ).json()
    conversation = TestClient(app).post("/api/v1/conversations", json={"tenant_id": "demo"})
    return {
        "tenant": "demo",
        "tenant_id": "demo",
        "case_id": case["case_id"],
        "conversation_id": conversation.json()["id"],
        "tracking_code": "ABCD-EFGH-JK",
        "doc_id": "inconnu",
        "answer_id": "inconnu",
        "message_id": "inconnu",
        "handoff_id": "inconnu",
        "number": "1",
    }


def test_every_operation_is_classified(app: Any) -> None:
    known = set(PUBLIC) | RESIDENT
    private = [op for op in operations(app) if op not in known]
    assert len(private) > 40  # the matrix below sees every signed-in operation
    assert known <= set(operations(app))  # nothing listed that no longer exists


def test_anonymous_callers_get_401_on_every_private_operation(
    app: Any, ids: dict[str, str]
) -> None:
    anonymous = TestClient(app)
    wrong = []
    for method, path in operations(app):
        if (method, path) in PUBLIC:
            continue
        response = anonymous.request(method, fill(path, ids), json={})
        expected = "resident_token_missing" if (method, path) in RESIDENT else "not_authenticated"
        if response.status_code != 401 or response.json().get("code") != expected:
            wrong.append(f"{method} {path}: {response.status_code} {response.text[:80]}")
    assert wrong == []


def test_an_agents_session_does_not_open_a_residents_conversation(
    app: Any, ids: dict[str, str]
) -> None:
    admin = TestClient(app)
    sign_in(admin, role="admin")
    for method, path in sorted(RESIDENT):
        response = admin.request(method, fill(path, ids), json={"content": "x", "score": 5})
        assert response.status_code == 401, path


def test_an_agent_of_another_commune_gets_404_on_the_communes_paths(
    app: Any, ids: dict[str, str]
) -> None:
    elsewhere = TestClient(app)
    sign_in(elsewhere, role="admin", tenant_id="autreville")
    wrong = []
    for method, path in operations(app):
        if not path.startswith("/api/v1/tenants/") or (method, path) in PUBLIC:
            continue
        response = elsewhere.request(method, fill(path, ids), json={})
        if response.status_code != 404:
            wrong.append(f"{method} {path}: {response.status_code}")
    assert wrong == []


def test_an_agent_of_another_service_gets_403(app: Any, ids: dict[str, str]) -> None:
    roads = TestClient(app)
    sign_in(roads, role="agent", services=("voirie",))
    for method, path, body in OTHER_SERVICE:
        response = roads.request(method, fill(path, ids), json=body)
        assert response.status_code == 403, f"{method} {path}: {response.text[:80]}"
        assert response.json()["code"] == "other_service"


#: The platform's operations: only the platform commune's administrators (``demo`` here).
PLATFORM = [("GET", "/api/v1/communes"), ("POST", "/api/v1/communes")]


def test_only_the_platforms_administrators_manage_communes(app: Any) -> None:
    assert set(PLATFORM) <= set(operations(app))
    new = {"id": "nouvelleville", "name": "Nouvelle-Ville", "admin_email": "a@nv.example"}
    for tenant_id, role in (("autreville", "admin"), ("demo", "supervisor")):
        outsider = TestClient(app)
        sign_in(outsider, role=role, tenant_id=tenant_id)
        for method, path in PLATFORM:
            response = outsider.request(method, path, json=new)
            assert response.status_code == 403, f"{role}@{tenant_id} {method} {path}"
    platform = TestClient(app)
    sign_in(platform, role="admin")
    assert platform.post("/api/v1/communes", json=new).status_code == 201
    assert "nouvelleville" in {c["id"] for c in platform.get("/api/v1/communes").json()}

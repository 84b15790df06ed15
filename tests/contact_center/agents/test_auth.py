"""Agents' sign-in through the real app: cookies, CSRF, expiry, attempt limits, access control.

The app runs with its real database, the fake embedder, LLM and request classifier: nothing
here needs an answer from the assistant. Conversations and their explanation records are
written through the conversation store, routed where each test needs them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.conversation.store import RecordDraft
from contact_center.ratelimit import RedisRateLimiter
from contact_center.services import Services
from contact_center.testing.chat_harness import TEST_PASSWORD, sign_in
from contact_center.web.deps import require_role
from routing.testing.fakes import FakeRequestClassifier
from tests.conftest import make_settings, require_module, unavailable

LOGIN = "/api/v1/auth/login"
REFUSED = "Adresse électronique ou mot de passe incorrect."


def build_services(tmp_path: Path, **overrides: Any) -> Services:
    settings = make_settings(
        tmp_path,
        embeddings={"backend": "fake"},
        notifications={"backend": "fake", "dispatch_interval_s": 0},
        **overrides,
    )
    return Services(settings, classifier=FakeRequestClassifier())


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return build_services(tmp_path)


@pytest.fixture
def app(services: Services) -> Iterator[Any]:
    application = create_app(services=services)
    with TestClient(application):  # runs the lifespan once for every client of the test
        yield application


@pytest.fixture
def api(app: Any) -> TestClient:
    return TestClient(app)


def another_client(app: Any) -> TestClient:
    """A second browser on the same app (its own cookie jar)."""
    return TestClient(app)


def routed_conversation(services: Services, service: str | None, tenant: str = "demo") -> str:
    """A conversation of ``tenant`` whose one turn was routed to ``service`` (None: not routed)."""
    conversation = services.conversations.create(tenant)
    routing = (
        None if service is None else {"service": service, "confidence": 0.9, "needs_triage": False}
    )
    services.conversations.add_record(
        RecordDraft(
            tenant_id=tenant,
            conversation_id=conversation.id,
            channel="web",
            question="Question d'un habitant",
            answer="Réponse",
            outcome="answered",
            kb_version="v",
            prompt_version="p",
            model_id="fake",
            embedding_model_id="fake",
            routing=routing,
        )
    )
    return conversation.id


def records(client: TestClient, conversation_id: str) -> Any:
    return client.get(f"/api/v1/conversations/{conversation_id}/records")


def test_sign_in_sets_a_strict_http_only_cookie_and_returns_the_csrf_token(api: TestClient) -> None:
    signed = sign_in(api, role="agent", services=("voirie",))
    assert signed.agent["role"] == "agent" and signed.agent["services"] == ["voirie"]
    me = api.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["agent"]["email"] == signed.email
    assert me.json()["csrf_token"] == signed.csrf_token

    login = api.post(LOGIN, json={"email": signed.email, "password": TEST_PASSWORD})
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain http in development


def test_the_cookie_is_secure_over_https(app: Any) -> None:
    client = TestClient(app, base_url="https://testserver")
    signed = sign_in(client)
    login = client.post(LOGIN, json={"email": signed.email, "password": TEST_PASSWORD})
    assert "; secure" in login.headers["set-cookie"].lower()


def test_a_wrong_password_and_an_unknown_email_get_the_same_french_refusal(
    api: TestClient, services: Services
) -> None:
    services.auth.accounts.create_agent(
        "demo", "alice@val-fleuri.example", "Alice", password=TEST_PASSWORD
    )
    wrong = api.post(LOGIN, json={"email": "alice@val-fleuri.example", "password": "x" * 14})
    unknown = api.post(
        LOGIN, json={"email": "nobody@val-fleuri.example", "password": TEST_PASSWORD}
    )
    other_town = api.post(
        LOGIN,
        json={
            "email": "alice@val-fleuri.example",
            "password": TEST_PASSWORD,
            "tenant": "autreville",
        },
    )
    for response in (wrong, unknown, other_town):
        assert response.status_code == 401
        assert response.json() == {"code": "sign_in_refused", "message": REFUSED}
        assert "set-cookie" not in response.headers
    assert api.get("/api/v1/auth/me").status_code == 401


def test_sign_out_needs_the_csrf_token_then_ends_the_session(api: TestClient) -> None:
    signed = sign_in(api)
    del api.headers["X-CSRF-Token"]
    refused = api.post("/api/v1/auth/logout")
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    assert "jeton de sécurité" in refused.json()["message"]
    forged = api.post("/api/v1/auth/logout", headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403
    assert api.get("/api/v1/auth/me").status_code == 200  # still signed in

    done = api.post("/api/v1/auth/logout", headers={"X-CSRF-Token": signed.csrf_token})
    assert done.status_code == 204
    after = api.get("/api/v1/auth/me")
    assert after.status_code == 401 and after.json()["code"] == "not_authenticated"
    assert "connecter" in after.json()["message"]


def test_a_stolen_csrf_token_does_not_work_with_another_session(app: Any) -> None:
    alice, bob = another_client(app), another_client(app)
    sign_in(alice)
    bob_session = sign_in(bob)
    del alice.headers["X-CSRF-Token"]
    response = alice.post("/api/v1/auth/logout", headers={"X-CSRF-Token": bob_session.csrf_token})
    assert response.status_code == 403


#: A fixed instant for the session clock: 20:00 UTC, so that ten hours later is another day.
SIGNED_IN_AT = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)


def test_an_idle_session_expires_and_activity_keeps_it(api: TestClient, services: Services) -> None:
    services.auth.sessions.clock = lambda: SIGNED_IN_AT
    sign_in(api)
    services.auth.sessions.clock = lambda: SIGNED_IN_AT + timedelta(minutes=29)
    assert api.get("/api/v1/auth/me").status_code == 200
    services.auth.sessions.clock = lambda: SIGNED_IN_AT + timedelta(minutes=58)
    assert api.get("/api/v1/auth/me").status_code == 200
    services.auth.sessions.clock = lambda: SIGNED_IN_AT + timedelta(minutes=89)
    assert api.get("/api/v1/auth/me").status_code == 401


def test_a_session_ends_after_its_absolute_lifetime(api: TestClient, services: Services) -> None:
    services.auth.sessions.clock = lambda: SIGNED_IN_AT
    sign_in(api)
    expires = datetime.fromisoformat(api.get("/api/v1/auth/me").json()["expires_at"])
    assert expires == SIGNED_IN_AT + timedelta(hours=10)
    for minutes in range(20, 600, 20):
        services.auth.sessions.clock = lambda m=minutes: SIGNED_IN_AT + timedelta(minutes=m)
        assert api.get("/api/v1/auth/me").status_code == 200, minutes
    services.auth.sessions.clock = lambda: SIGNED_IN_AT + timedelta(hours=10, minutes=1)
    assert api.get("/api/v1/auth/me").status_code == 401


def test_sign_in_attempts_are_limited_per_account_with_a_french_429(
    api: TestClient, services: Services
) -> None:
    services.auth.accounts.create_agent(
        "demo", "alice@val-fleuri.example", "Alice", password=TEST_PASSWORD
    )
    body = {"email": "alice@val-fleuri.example", "password": "Mauvais-mot-2-passe"}
    statuses = [api.post(LOGIN, json=body).status_code for _ in range(5)]
    assert statuses == [401] * 5
    limited = api.post(LOGIN, json={**body, "password": TEST_PASSWORD})  # right, but too late
    assert limited.status_code == 429
    assert limited.json()["code"] == "too_many_attempts"
    assert "Trop de tentatives de connexion" in limited.json()["message"]
    assert int(limited.headers["retry-after"]) >= 1
    # Another account from the same client is still allowed.
    assert sign_in(api).agent["role"] == "admin"


def test_wrong_passwords_from_one_client_do_not_lock_the_owner_out(app: Any) -> None:
    app.state.services.auth.accounts.create_agent(
        "demo", "alice@val-fleuri.example", "Alice", password=TEST_PASSWORD
    )
    body = {"email": "alice@val-fleuri.example", "password": "Mauvais-mot-2-passe"}
    guesser = TestClient(app, client=("203.0.113.66", 50000))
    statuses = [guesser.post(LOGIN, json=body).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    owner = TestClient(app, client=("198.51.100.20", 50000))
    signed = owner.post(LOGIN, json={**body, "password": TEST_PASSWORD})
    assert signed.status_code == 200 and signed.json()["agent"]["email"] == body["email"]
    assert guesser.post(LOGIN, json={**body, "password": TEST_PASSWORD}).status_code == 429


def test_sign_in_attempts_are_limited_per_client(tmp_path: Path) -> None:
    """Behind the trusted proxy, each forwarded client has its own count."""
    services = build_services(
        tmp_path,
        auth={"login_attempts_per_client_per_minute": 3},
        app={"trusted_proxies": ["testclient"]},  # the TestClient's address: the proxy
    )
    with TestClient(create_app(services=services)) as client:
        for n in range(3):
            body = {"email": f"agent{n}@val-fleuri.example", "password": "Mauvais-mot-2-passe"}
            assert client.post(LOGIN, json=body).status_code == 401
        fourth = client.post(LOGIN, json={"email": "x@val-fleuri.example", "password": "y"})
        assert fourth.status_code == 429
        elsewhere = client.post(
            LOGIN,
            json={"email": "x@val-fleuri.example", "password": "y"},
            headers={"X-Forwarded-For": "198.51.100.7"},
        )
        assert elsewhere.status_code == 401


def test_a_client_cannot_dodge_the_sign_in_limit_with_its_own_forwarded_header(
    tmp_path: Path,
) -> None:
    """Without a trusted proxy in front, X-Forwarded-For is anyone's to write: ignored."""
    services = build_services(tmp_path, auth={"login_attempts_per_client_per_minute": 3})
    with TestClient(create_app(services=services)) as client:
        statuses = [
            client.post(
                LOGIN,
                json={"email": f"agent{n}@val-fleuri.example", "password": "Mauvais-mot-2"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            for n in range(5)
        ]
    assert statuses == [401, 401, 401, 429, 429]


#: A fixed wall-clock time (seconds) in the middle of a minute.
IN_ONE_MINUTE = SIGNED_IN_AT.timestamp() + 30


@pytest.mark.integration
def test_sign_in_attempts_are_counted_in_redis_by_every_replica(tmp_path: Path) -> None:
    redis = require_module("redis", "the 'redis' extra is not installed")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis is not reachable on 127.0.0.1:6379 ({exc})")
    body = {"email": f"{uuid.uuid4().hex}@val-fleuri.example", "password": "Mauvais-mot-2-passe"}
    replicas = [build_services(tmp_path / name, redis={"url": url}) for name in ("a", "b")]
    for replica in replicas:
        auth = replica.auth
        assert isinstance(auth.client_limiter, RedisRateLimiter)
        assert isinstance(auth.account_limiter, RedisRateLimiter)
        # Redis counts per calendar minute: both replicas' clocks stay in one minute.
        limits = replica.settings.auth
        per_client, per_account = (
            limits.login_attempts_per_client_per_minute,
            limits.login_attempts_per_minute,
        )
        auth.client_limiter = RedisRateLimiter(url, per_client, clock=lambda: IN_ONE_MINUTE)
        auth.account_limiter = RedisRateLimiter(url, per_account, clock=lambda: IN_ONE_MINUTE)
    client = (f"test-{uuid.uuid4().hex}", 50000)  # this run's own counters
    with (
        TestClient(create_app(services=replicas[0]), client=client) as first,
        TestClient(create_app(services=replicas[1]), client=client) as second,
    ):
        statuses = [c.post(LOGIN, json=body).status_code for c in (first, second) * 3]
    assert statuses == [401] * 5 + [429]


def test_require_role_admits_that_role_and_more_trusted_ones(app: Any) -> None:
    router = APIRouter()
    router.add_api_route(
        "/test/supervision",
        lambda: {"ok": True},
        dependencies=[Depends(require_role("supervisor"))],
    )
    app.include_router(router)
    assert another_client(app).get("/test/supervision").status_code == 401
    for role, status in (("agent", 403), ("supervisor", 200), ("admin", 200)):
        client = another_client(app)
        sign_in(client, role=role)
        response = client.get("/test/supervision")
        assert response.status_code == status, role
    assert response.json() == {"ok": True}
    agent = another_client(app)
    sign_in(agent, role="agent")
    assert agent.get("/test/supervision").json() == {
        "code": "forbidden",
        "message": "Vos droits ne permettent pas cette action.",
    }


def test_records_refuse_anonymous_access(api: TestClient, services: Services) -> None:
    conversation = routed_conversation(services, "voirie")
    response = records(api, conversation)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert records(api, "unknown").status_code == 401  # existence is not revealed either


def test_an_agent_reads_only_the_conversations_of_their_services(
    app: Any, services: Services
) -> None:
    voirie = routed_conversation(services, "voirie")
    etat_civil = routed_conversation(services, "etat_civil")
    unrouted = routed_conversation(services, None)

    agent = another_client(app)
    sign_in(agent, role="agent", services=("voirie",))
    assert records(agent, voirie).status_code == 200
    refused = records(agent, etat_civil)
    assert refused.status_code == 403 and refused.json()["code"] == "other_service"
    assert "service" in refused.json()["message"]
    assert records(agent, unrouted).status_code == 403

    reception = another_client(app)
    sign_in(reception, role="agent", services=("affaires_generales",))
    assert records(reception, unrouted).status_code == 200
    assert records(reception, voirie).status_code == 403

    supervisor = another_client(app)
    sign_in(supervisor, role="supervisor")
    assert all(records(supervisor, c).status_code == 200 for c in (voirie, etat_civil, unrouted))
    (record,) = records(supervisor, voirie).json()
    assert record["routing"]["service"] == "voirie"


def test_another_communes_agent_gets_404(app: Any, services: Services) -> None:
    demo_conversation = routed_conversation(services, "voirie")
    for role in ("agent", "admin"):
        other = another_client(app)
        sign_in(other, role=role, tenant_id="autreville", services=("voirie",))
        response = records(other, demo_conversation)
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "message": "Conversation introuvable."}

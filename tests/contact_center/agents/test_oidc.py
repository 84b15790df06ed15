"""Single sign-on through an OpenID Connect provider: the stand-in provider, the real app.

The browser's trip to the provider goes through an ``httpx`` client on the stand-in's
transport; everything on the app's side is real (cookies, state, PKCE, ID token checks).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from contact_center.agents.oidc import OidcClient
from contact_center.app import create_app
from contact_center.services import Services
from contact_center.testing.oidc_provider import StandInOidcProvider
from routing.testing.fakes import FakeRequestClassifier
from tests.conftest import make_settings

CALLBACK = "http://testserver/api/v1/auth/oidc/callback"
EMAIL = "claire.dupont@val-fleuri.example"


@pytest.fixture
def provider() -> StandInOidcProvider:
    provider = StandInOidcProvider(redirect_uri=CALLBACK)
    provider.add_user("sub-claire", email=EMAIL, name="Claire Dupont")
    provider.signed_in = "sub-claire"
    return provider


@pytest.fixture
def services(tmp_path: Path, provider: StandInOidcProvider) -> Services:
    settings = make_settings(
        tmp_path,
        embeddings={"backend": "fake"},
        notifications={"backend": "fake", "dispatch_interval_s": 0},
        oidc={
            "enabled": True,
            "issuer": provider.issuer,
            "client_id": provider.client_id,
            "client_secret": provider.client_secret,
            "redirect_url": CALLBACK,
            "role_claim": "roles",
            "services_claim": "services",
            "post_login_path": "/console",
        },
    )
    built = Services(settings, classifier=FakeRequestClassifier())
    built.auth.oidc = OidcClient(settings.oidc, transport=httpx.MockTransport(provider))
    return built


@pytest.fixture
def api(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services)) as client:
        yield client


def sso_round_trip(api: TestClient, provider: StandInOidcProvider) -> httpx.Response:
    """Start at the app, approve at the provider, come back to the app's callback."""
    start = api.get("/api/v1/auth/oidc/login", follow_redirects=False)
    assert start.status_code == 302, start.text
    with httpx.Client(transport=httpx.MockTransport(provider)) as browser:
        approved = browser.get(start.headers["location"])
    assert approved.status_code == 302, approved.text
    return api.get(approved.headers["location"])


def test_an_existing_agent_signs_in_through_the_provider_and_is_linked(
    api: TestClient, services: Services, provider: StandInOidcProvider
) -> None:
    agent = services.auth.accounts.create_agent("demo", EMAIL, "Claire", services=["voirie"])
    start = api.get("/api/v1/auth/oidc/login", follow_redirects=False)
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"] and query["nonce"]
    assert "httponly" in start.headers["set-cookie"].lower()

    done = sso_round_trip(api, provider)
    assert done.status_code == 200 and 'url=/console"' in done.text
    assert "samesite=strict" in done.headers["set-cookie"].lower()
    me = api.get("/api/v1/auth/me").json()
    assert me["agent"]["id"] == agent.id
    assert me["agent"]["services"] == ["voirie"]  # no services claim: memberships kept
    (account,) = services.auth.accounts.list("demo")
    assert account.sso_linked and account.last_login_at is not None
    actions = {entry.action for entry in services.auth.audit.list("demo")}
    assert {"auth.sso_linked", "auth.login"} <= actions


def test_the_subject_is_enough_once_linked(
    api: TestClient, services: Services, provider: StandInOidcProvider
) -> None:
    services.auth.accounts.create_agent("demo", EMAIL, "Claire")
    assert sso_round_trip(api, provider).status_code == 200
    provider.users["sub-claire"]["email"] = "claire.martin@val-fleuri.example"  # name changed
    api.cookies.clear()
    assert sso_round_trip(api, provider).status_code == 200
    assert api.get("/api/v1/auth/me").json()["agent"]["email"] == EMAIL


def test_role_and_services_follow_the_providers_claims(
    api: TestClient, services: Services, provider: StandInOidcProvider
) -> None:
    services.auth.accounts.create_agent("demo", EMAIL, "Claire", services=["voirie"])
    provider.users["sub-claire"].update(
        roles=["agent", "supervisor"], services=["etat_civil", "elections", "inconnu"]
    )
    assert sso_round_trip(api, provider).status_code == 200
    agent = api.get("/api/v1/auth/me").json()["agent"]
    assert agent["role"] == "supervisor"
    assert agent["services"] == ["elections", "etat_civil"]


def test_nobody_registers_through_the_provider(
    api: TestClient, services: Services, provider: StandInOidcProvider
) -> None:
    refused = sso_round_trip(api, provider)
    assert refused.status_code == 403
    assert "Aucun compte agent actif" in refused.json()["message"]
    assert services.auth.accounts.list() == []
    assert api.get("/api/v1/auth/me").status_code == 401


@pytest.mark.parametrize(
    "overrides",
    [
        {"nonce": "rejoue"},
        {"aud": "une-autre-application"},
        {"iss": "https://faux.example"},
        {"exp": 1_000_000_000},
    ],
    ids=["nonce", "audience", "issuer", "expired"],
)
def test_untrustworthy_id_tokens_are_refused(
    api: TestClient, services: Services, provider: StandInOidcProvider, overrides: dict[str, Any]
) -> None:
    services.auth.accounts.create_agent("demo", EMAIL, "Claire")
    provider.claim_overrides = overrides
    refused = sso_round_trip(api, provider)
    assert refused.status_code == 403 and refused.json()["code"] == "sso_refused"
    assert api.get("/api/v1/auth/me").status_code == 401


def test_a_token_signed_with_another_key_is_refused(
    api: TestClient, services: Services, provider: StandInOidcProvider
) -> None:
    services.auth.accounts.create_agent("demo", EMAIL, "Claire")
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    genuine = provider.id_token

    def forged(subject: str, nonce: str) -> str:
        claims = jwt.decode(genuine(subject, nonce), options={"verify_signature": False})
        return jwt.encode(claims, forger, algorithm="RS256", headers={"kid": provider.kid})

    provider.id_token = forged  # type: ignore[method-assign]
    refused = sso_round_trip(api, provider)
    assert refused.status_code == 403 and refused.json()["code"] == "sso_refused"
    # No session was opened: no cookie, nobody signed in, no sign-in in the audit trail.
    assert services.settings.auth.cookie_name not in refused.cookies
    assert api.get("/api/v1/auth/me").status_code == 401
    assert "auth.login" not in {entry.action for entry in services.auth.audit.list("demo")}


def test_the_callback_needs_the_state_of_this_browser(
    api: TestClient, services: Services, provider: StandInOidcProvider
) -> None:
    services.auth.accounts.create_agent("demo", EMAIL, "Claire")
    start = api.get("/api/v1/auth/oidc/login", follow_redirects=False)
    with httpx.Client(transport=httpx.MockTransport(provider)) as browser:
        callback = browser.get(start.headers["location"]).headers["location"]
    tampered = callback.replace("state=", "state=x")
    assert api.get(tampered).status_code == 403
    stranger = TestClient(api.app)  # another browser, without the state cookie
    assert stranger.get(callback).status_code == 403
    assert api.get(callback).status_code == 200  # the code was not spent by the refusals


def test_sso_is_off_unless_configured(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        embeddings={"backend": "fake"},
        notifications={"backend": "fake", "dispatch_interval_s": 0},
    )
    services = Services(settings, classifier=FakeRequestClassifier())
    with TestClient(create_app(services=services)) as client:
        response = client.get("/api/v1/auth/oidc/login", follow_redirects=False)
    assert response.status_code == 404
    assert "pas activée" in response.json()["message"]

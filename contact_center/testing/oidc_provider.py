"""A stand-in OpenID Connect provider, for tests and demos without the town's real one.

It serves, through an ``httpx`` transport (``httpx.MockTransport(provider)``), what
:class:`contact_center.agents.oidc.OidcClient` needs: the discovery document, the JWKS of an RSA key
it generates, an authorize endpoint that approves whoever :attr:`StandInOidcProvider.signed_in`
names (no login page) and a token endpoint that checks the client secret, the redirect URI
and the PKCE verifier before issuing an RS256 ID token.

::

    provider = StandInOidcProvider(redirect_uri="http://testserver/api/v1/auth/oidc/callback")
    provider.add_user("sub-1", email="agent@val-fleuri.example", name="Alice Martin")
    provider.signed_in = "sub-1"
    client = OidcClient(settings.oidc, transport=httpx.MockTransport(provider))

:attr:`StandInOidcProvider.claim_overrides` changes the next ID tokens (a wrong nonce, another
audience ...) to check that the relying party refuses them.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


class StandInOidcProvider:
    """An in-process OpenID Connect provider (authorization code flow with PKCE, RS256)."""

    def __init__(
        self,
        *,
        issuer: str = "https://sso.val-fleuri.example",
        client_id: str = "contact-center",
        client_secret: str = "secret-du-centre-de-contact",
        redirect_uri: str = "http://testserver/api/v1/auth/oidc/callback",
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(4)
        self.users: dict[str, dict[str, Any]] = {}
        #: The subject the authorize endpoint approves (as if they had just signed in there).
        self.signed_in: str | None = None
        #: Claims set on (or, with value None, removed from) the next ID tokens.
        self.claim_overrides: dict[str, Any] = {}
        self._codes: dict[str, dict[str, str]] = {}

    def add_user(self, subject: str, **claims: Any) -> None:
        """A person of the provider's directory (``email``, ``name``, roles, groups ...)."""
        self.users[subject] = {"email_verified": True, **claims}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """Serve one request (the ``httpx.MockTransport`` handler)."""
        routes = {
            "/.well-known/openid-configuration": self._discovery,
            "/jwks": self._jwks,
            "/authorize": self._authorize,
            "/token": self._token,
        }
        handler = routes.get(request.url.path)
        return handler(request) if handler else httpx.Response(404)

    def _discovery(self, _: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            },
        )

    def _jwks(self, _: httpx.Request) -> httpx.Response:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return httpx.Response(
            200, json={"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}
        )

    def _authorize(self, request: httpx.Request) -> httpx.Response:
        query = request.url.params
        if (
            query.get("client_id") != self.client_id
            or query.get("redirect_uri") != self.redirect_uri
            or query.get("response_type") != "code"
            or query.get("code_challenge_method") != "S256"
            or "openid" not in query.get("scope", "").split()
        ):
            return httpx.Response(400, json={"error": "invalid_request"})
        if self.signed_in is None:
            return httpx.Response(401, text="nobody signed in at the stand-in provider")
        code = secrets.token_urlsafe(16)
        self._codes[code] = {
            "subject": self.signed_in,
            "nonce": query.get("nonce", ""),
            "challenge": query.get("code_challenge", ""),
        }
        back = urlencode({"code": code, "state": query.get("state", "")})
        return httpx.Response(302, headers={"Location": f"{self.redirect_uri}?{back}"})

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return httpx.Response(401, json={"error": "invalid_client"})
        grant = self._codes.pop(form.get("code", ""), None)  # a code is used once
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != self.redirect_uri
            or challenge.rstrip(b"=").decode() != grant["challenge"]
        ):
            return httpx.Response(400, json={"error": "invalid_grant"})
        id_token = self.id_token(grant["subject"], grant["nonce"])
        return httpx.Response(
            200,
            json={
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            },
        )

    def id_token(self, subject: str, nonce: str) -> str:
        """An ID token for ``subject`` signed with the provider's key (overrides applied)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **self.users.get(subject, {}),
            **self.claim_overrides,
        }
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

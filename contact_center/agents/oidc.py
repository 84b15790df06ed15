"""Sign-in through the town's OpenID Connect provider (authorization code flow with PKCE).

1. :meth:`OidcClient.authorization_request` builds the provider's authorize URL with a fresh
   ``state``, ``nonce`` and PKCE ``code_verifier`` (S256), which the caller keeps for step 2;
2. the provider sends the browser back with a ``code``; :meth:`OidcClient.finish` exchanges it
   at the token endpoint and verifies the ID token: signature against the provider's JWKS
   (asymmetric algorithms only), issuer, audience, expiry and nonce.

The discovery document and the JWKS are fetched with httpx and cached; the JWKS is fetched
again once when a token names an unknown key (the provider rotated its keys). Every failure
becomes :class:`contact_center.errors.SsoError` with a French message; details go to the log,
never tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from contact_center.errors import SsoError
from contact_center.settings import OidcSection

log = logging.getLogger(__name__)

#: Signature algorithms accepted for ID tokens (never ``none`` nor HMAC with the secret).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
FAILED = (
    "La connexion avec le compte de la mairie a échoué. Merci de réessayer ; si le problème "
    "persiste, contactez l'administrateur du centre de contact."
)


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and what to keep until it comes back."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class OidcIdentity:
    """Who the provider says signed in (claims of the verified ID token)."""

    subject: str
    email: str | None
    email_verified: bool | None
    name: str | None
    claims: dict[str, Any] = field(default_factory=dict)


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcClient:
    """A relying party of one provider, as configured in ``settings.oidc``."""

    def __init__(
        self, settings: OidcSection, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._http = httpx.Client(transport=transport, timeout=settings.timeout_s)
        self._discovery: dict[str, Any] | None = None
        self._jwks: jwt.PyJWKSet | None = None

    def authorization_request(self) -> AuthorizationRequest:
        """The authorize URL with a fresh state, nonce and PKCE challenge."""
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": self.settings.redirect_url,
            "scope": " ".join(self.settings.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        }
        endpoint = str(self.discovery()["authorization_endpoint"])
        separator = "&" if "?" in endpoint else "?"
        return AuthorizationRequest(endpoint + separator + urlencode(query), state, nonce, verifier)

    def finish(self, code: str, code_verifier: str, nonce: str) -> OidcIdentity:
        """Exchange ``code`` and verify the ID token; :class:`SsoError` when anything is off."""
        id_token = self._exchange(code, code_verifier)
        claims = self._verify(id_token)
        if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            log.warning("oidc id token nonce mismatch")
            raise SsoError(FAILED)
        return OidcIdentity(
            subject=str(claims["sub"]),
            email=claims.get("email"),
            email_verified=claims.get("email_verified"),
            name=claims.get("name"),
            claims=claims,
        )

    def discovery(self) -> dict[str, Any]:
        """The provider's discovery document (fetched once)."""
        if self._discovery is None:
            issuer = str(self.settings.issuer).rstrip("/")
            document = self._get_json(issuer + "/.well-known/openid-configuration")
            if str(document.get("issuer", "")).rstrip("/") != issuer:
                log.warning("oidc discovery issuer differs from the configured one")
                raise SsoError(FAILED)
            self._discovery = document
        return self._discovery

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def _exchange(self, code: str, code_verifier: str) -> str:
        document = self.discovery()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": str(self.settings.redirect_url),
            "code_verifier": code_verifier,
            "client_id": str(self.settings.client_id),
        }
        auth: httpx.BasicAuth | None = None
        secret = self.settings.client_secret
        if secret is not None:
            methods = document.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
            if "client_secret_basic" in methods:
                auth = httpx.BasicAuth(str(self.settings.client_id), secret.get_secret_value())
            else:
                data["client_secret"] = secret.get_secret_value()
        try:
            response = self._http.post(
                str(document["token_endpoint"]), data=data, auth=auth or httpx.USE_CLIENT_DEFAULT
            )
            response.raise_for_status()
            return str(response.json()["id_token"])
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            log.warning("oidc token exchange failed: %s", type(exc).__name__)
            raise SsoError(FAILED) from exc

    def _verify(self, id_token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
            if header.get("alg") not in ALGORITHMS:
                raise jwt.InvalidAlgorithmError(str(header.get("alg")))
            key = self._key(header.get("kid"))
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=[header["alg"]],
                audience=self.settings.client_id,
                issuer=self.discovery()["issuer"],
                leeway=60,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except (jwt.PyJWTError, KeyError) as exc:
            log.warning("oidc id token refused: %s", type(exc).__name__)
            raise SsoError(FAILED) from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.settings.client_id:
            raise SsoError(FAILED)
        return claims

    def _key(self, kid: str | None) -> jwt.PyJWK:
        for refresh in (False, True):
            if self._jwks is None or refresh:
                self._jwks = jwt.PyJWKSet.from_dict(self._get_json(self.discovery()["jwks_uri"]))
            keys = [k for k in self._jwks.keys if kid is None or k.key_id == kid]
            if keys:
                return keys[0]
        raise jwt.InvalidKeyError("no key of the provider matches the token")

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("oidc provider unreachable: %s", type(exc).__name__)
            raise SsoError(FAILED) from exc
        if not isinstance(document, dict):
            raise SsoError(FAILED)
        return document

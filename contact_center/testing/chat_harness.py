"""A harness that drives web-chat conversations through the real application.

Used by the test suite and by evaluation runs: it speaks the same HTTP + Server-Sent Events
protocol as the widget, against any ``httpx``-compatible client (FastAPI's ``TestClient`` or
an ``httpx.Client`` pointed at a running server).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol


class _HttpClient(Protocol):
    def post(self, url: str, **kwargs: Any) -> Any: ...

    def get(self, url: str, **kwargs: Any) -> Any: ...


def parse_sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    """Split a ``text/event-stream`` body into ``(event, data)`` pairs."""
    events: list[tuple[str, dict[str, Any]]] = []
    for frame in body.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in frame.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


@dataclass
class TurnResult:
    """What the resident saw for one message."""

    status_code: int
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    error: dict[str, Any] | None = None

    def of(self, name: str) -> list[dict[str, Any]]:
        """Every event of one kind, in order."""
        return [data for event, data in self.events if event == name]

    @property
    def done(self) -> dict[str, Any]:
        """The final ``done`` event (raises if the turn did not complete)."""
        (done,) = self.of("done")
        return done

    @property
    def streamed_text(self) -> str:
        """The concatenated ``token`` events."""
        return "".join(data["text"] for data in self.of("token"))


class ChatHarness:
    """Drives one conversation for one commune, as the widget does."""

    def __init__(self, client: _HttpClient, tenant_id: str = "demo") -> None:
        self.client = client
        self.tenant_id = tenant_id
        response = client.post("/api/v1/conversations", json={"tenant_id": tenant_id})
        response.raise_for_status()
        self.conversation: dict[str, Any] = response.json()

    @property
    def id(self) -> str:
        """The conversation id."""
        return str(self.conversation["id"])

    @property
    def auth(self) -> dict[str, str]:
        """The header that proves the resident's own conversation (its ``resident_token``)."""
        return {"Authorization": f"Bearer {self.conversation['resident_token']}"}

    def send(self, text: str) -> TurnResult:
        """Send one message and collect the streamed events."""
        response = self.client.post(
            f"/api/v1/conversations/{self.id}/messages", json={"content": text}, headers=self.auth
        )
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            return TurnResult(response.status_code, parse_sse(response.text))
        return TurnResult(response.status_code, error=response.json())

    def reload(self) -> dict[str, Any]:
        """The conversation as a page reload gets it."""
        response = self.client.get(f"/api/v1/conversations/{self.id}", headers=self.auth)
        response.raise_for_status()
        return dict(response.json())

    def records(self) -> list[dict[str, Any]]:
        """The explanation records of the conversation."""
        response = self.client.get(f"/api/v1/conversations/{self.id}/records")
        response.raise_for_status()
        return list(response.json())


#: Password of the agents that :func:`sign_in` creates (meets the password rules).
TEST_PASSWORD = "Essai-de-connexion-2026"


@dataclass(frozen=True)
class SignedIn:
    """An agent signed in through the real sign-in endpoint."""

    agent: dict[str, Any]
    csrf_token: str
    email: str
    password: str


def sign_in(
    client: Any,
    *,
    role: str = "admin",
    tenant_id: str = "demo",
    services: tuple[str, ...] = (),
    email: str | None = None,
) -> SignedIn:
    """Create an agent in the app behind ``client`` (a ``TestClient``) and sign in as them.

    The session cookie stays in the client's cookie jar and the CSRF token becomes a default
    ``X-CSRF-Token`` header: every later request of this client is made as this agent.
    """
    import uuid

    email = email or f"{role}-{uuid.uuid4().hex[:8]}@{tenant_id}.example"
    accounts = client.app.state.services.auth.accounts
    accounts.create_agent(
        tenant_id,
        email,
        f"Agent de test ({role})",
        role=role,
        password=TEST_PASSWORD,
        services=services,
    )
    response = client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": TEST_PASSWORD, "tenant": tenant_id},
    )
    response.raise_for_status()
    body = response.json()
    client.headers["X-CSRF-Token"] = body["csrf_token"]
    return SignedIn(body["agent"], body["csrf_token"], email, TEST_PASSWORD)


class FailingActions:
    """Case actions that always raise, to exercise the engine's degradation (a stand-in for a
    database gone away in the middle of a case intake). Set it as ``engine.actions``."""

    def handle(self, **_: Any) -> None:
        """Fail like a lost database connection would."""
        raise ConnectionError("fake: the database went away")


class FailingValidatedAnswers:
    """Validated answers whose lookup fails with an unexpected error (a stand-in for a bug in a
    library deep in the answer path), to check that the turn still ends with an apology, a
    handoff and its record. Set it as ``engine.validated_answers``."""

    def match(self, question: str, tenant_id: str) -> None:
        """Fail like an unexpected bug would."""
        raise IndexError("fake: string index out of range")

"""Property-based fuzzing of the whole API from its OpenAPI description (schemathesis).

Every operation of the real application gets generated requests, valid and invalid, three
times: anonymously, as a signed-in administrator of the demo commune (so that the private
routes are exercised past their access rule), and as a resident holding their own
conversation's ``resident_token``. Two properties hold for every response: no 5xx, and every
4xx is the project's error, a JSON object with a ``code`` and a French ``message``
(contact_center/app.py, ``_install_error_handlers``), never the framework's ``{"detail": ...}``.

The size is one CI can afford: at most :data:`EXAMPLES` generated requests per operation and
generation phase, derandomized so that every run sends the same requests, against one
application on PostgreSQL for the whole module. The figures of each run (operations, cases
generated, 5xx found) are printed when the module ends.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from requests.structures import CaseInsensitiveDict

from contact_center.app import create_app
from contact_center.services import Services
from contact_center.settings import Settings
from contact_center.testing.chat_harness import sign_in
from routing.testing.fakes import FakeRequestClassifier
from tests.conftest import fresh_postgres_database, make_settings, require_module

schemathesis = require_module("schemathesis", "schemathesis is not installed (the 'dev' extra)")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402

#: Generated requests per operation and generation phase: enough to find the crashes of
#: malformed input, few enough for CI.
EXAMPLES = 10
BASE_URL = "http://testserver"

#: Operations left out of a run, and why (every one of them is still fuzzed anonymously).
EXCLUDED_AS_ADMIN = {
    ("GET", "/api/v1/console/events"): "a server-sent event stream that stays open",
    ("POST", "/api/v1/auth/logout"): "it ends the session that the rest of the run needs",
    ("POST", "/api/v1/tenants/{tenant_id}/kb/jobs"): "starts a background import or reindex",
    ("POST", "/api/v1/tenants/{tenant_id}/kb/imports/service-public"): (
        "starts a background import of the service-public.fr package"
    ),
}
EXCLUDED_AS_RESIDENT = {
    ("GET", "/api/v1/conversations/{conversation_id}/events"): (
        "a server-sent event stream that stays open"
    ),
}

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _openapi() -> dict[str, Any]:
    """The application's OpenAPI description (routes do not depend on the settings)."""
    folder = Path(tempfile.gettempdir()) / "contact-center-fuzz"
    return create_app(make_settings(folder)).openapi()


schema = schemathesis.openapi.from_dict(_openapi())


@dataclass
class Figures:
    """What one run sent and saw."""

    identity: str
    operations: set[str] = field(default_factory=set)
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)

    def count(self, case: Any, status: int) -> None:
        self.operations.add(case.operation.label)
        self.cases += 1
        self.statuses[status] += 1
        if status >= 500:
            self.server_errors.append(f"{status} {case.operation.label}")

    def summary(self) -> str:
        by_class = Counter(f"{status // 100}xx" for status in self.statuses.elements())
        line = (
            f"API fuzz, {self.identity}: {len(self.operations)} operations, "
            f"{self.cases} cases generated, {len(self.server_errors)} 5xx found "
            f"(responses {dict(sorted(by_class.items()))})"
        )
        return line + "".join(f"\n  {error}" for error in sorted(set(self.server_errors)))


class InProcessAdapter(requests.adapters.BaseAdapter):
    """Sends schemathesis's ``requests`` calls through a FastAPI ``TestClient``, so that they
    run in the event loop of the application's lifespan, with the client's cookies and
    headers (an agent's session and CSRF token, a resident's credential)."""

    def __init__(self, client: TestClient) -> None:
        super().__init__()
        self.client = client

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:  # type: ignore[override]
        reply = self.client.request(
            str(request.method),
            str(request.url),
            content=request.body,  # type: ignore[arg-type]
            headers=dict(request.headers),
        )
        response = requests.Response()
        response.status_code = reply.status_code
        response.headers = CaseInsensitiveDict(reply.headers)
        response._content = reply.content
        # What the ``requests`` transport reads headers and event streams from.
        response.raw = urllib3.HTTPResponse(
            body=io.BytesIO(reply.content),
            headers=reply.headers.multi_items(),
            status=reply.status_code,
            preload_content=False,
        )
        response.encoding = reply.encoding
        response.url = str(request.url)
        response.request = request
        return response

    def close(self) -> None:
        pass


def session_of(client: TestClient) -> requests.Session:
    session = requests.Session()
    session.mount(BASE_URL, InProcessAdapter(client))
    return session


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The real application with the demo commune on PostgreSQL (the production database:
    it refuses what SQLite stores), started once for the module."""
    with pytest.MonkeyPatch.context() as env, fresh_postgres_database() as database_url:
        # The suite's clean environment (tests/conftest.py) is per test; this app lives longer.
        env.setitem(Settings.model_config, "env_file", None)
        for name in [name for name in os.environ if name.startswith("CC_")]:
            env.delenv(name)
        settings = make_settings(
            tmp_path_factory.mktemp("fuzz"),
            database={"url": database_url},
            embeddings={"backend": "fake"},
            notifications={"backend": "fake", "dispatch_interval_s": 0},
            chat={"rate_limit_burst": 10_000, "rate_limit_per_minute": 10_000},
        )
        application = create_app(services=Services(settings, classifier=FakeRequestClassifier()))
        with TestClient(application):
            yield application


@pytest.fixture(scope="module")
def figures(request: pytest.FixtureRequest) -> Iterator[dict[str, Figures]]:
    """One collector per identity; their figures are printed when the module ends."""
    runs = {name: Figures(name) for name in ("anonymous", "admin", "resident")}
    yield runs
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        for run in runs.values():
            print("\n" + run.summary(), end="")
        print()


@pytest.fixture(scope="module")
def anonymous(app: Any) -> requests.Session:
    return session_of(TestClient(app, base_url=BASE_URL, raise_server_exceptions=False))


@pytest.fixture(scope="module")
def admin(app: Any) -> tuple[requests.Session, dict[str, str]]:
    """A signed-in administrator of the demo commune, and real objects of the commune."""
    client = TestClient(app, base_url=BASE_URL, raise_server_exceptions=False)
    sign_in(client, role="admin")
    case = client.post(
        "/api/v1/tenants/demo/cases", json={"service": "etat_civil", "summary": "Acte"}
    ).json()
    conversation = client.post("/api/v1/conversations", json={"tenant_id": "demo"}).json()
    values = {
        "tenant": "demo",
        "tenant_id": "demo",
        "case_id": case["case_id"],
        "conversation_id": conversation["id"],
    }
    return session_of(client), values


@pytest.fixture(scope="module")
def resident(app: Any) -> tuple[requests.Session, dict[str, str]]:
    """A resident's client that holds its own conversation's credential."""
    client = TestClient(app, base_url=BASE_URL, raise_server_exceptions=False)
    conversation = client.post("/api/v1/conversations", json={"tenant_id": "demo"}).json()
    client.headers["Authorization"] = f"Bearer {conversation['resident_token']}"
    return session_of(client), {"conversation_id": conversation["id"]}


def project_error_format(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx is a JSON object with a ``code`` and a ``message``: the project's error."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = response.json()
    except ValueError as exc:
        raise AssertionError(
            f"a {response.status_code} that is not JSON: {response.text[:200]!r}"
        ) from exc
    assert isinstance(body, dict), f"a {response.status_code} that is not an object: {body!r:.200}"
    assert "detail" not in body, f"the framework's error, not the project's: {body!r:.200}"
    assert isinstance(body.get("code"), str), f"an error without its code: {body!r:.200}"
    assert isinstance(body.get("message"), str) and body["message"], f"no message: {body!r:.200}"
    return True


CHECKS = [not_a_server_error, project_error_format]


def call(case: Any, session: requests.Session, figures: Figures) -> None:
    """Send one generated request and hold the two properties on its response."""
    response = case.call(base_url=BASE_URL, session=session)
    figures.count(case, response.status_code)
    case.validate_response(response, checks=CHECKS)


def pin(case: Any, values: dict[str, str]) -> None:
    """Valid requests reach real objects (the commune, its case, a conversation); invalid ones
    keep their generated identifiers."""
    if case.meta is not None and case.meta.generation.mode is GenerationMode.NEGATIVE:
        return
    for name, value in values.items():
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = value


def excluded_as_admin(ctx: Any) -> bool:
    return (ctx.operation.method.upper(), ctx.operation.path) in EXCLUDED_AS_ADMIN


def excluded_as_resident(ctx: Any) -> bool:
    return (ctx.operation.method.upper(), ctx.operation.path) in EXCLUDED_AS_RESIDENT


#: The resident's own conversation: the operations its credential opens.
resident_schema = schema.include(path_regex=r"^/api/v1/conversations/\{conversation_id\}")


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_anonymous(
    case: Any, anonymous: requests.Session, figures: dict[str, Figures]
) -> None:
    call(case, anonymous, figures["anonymous"])


@schema.exclude(excluded_as_admin).parametrize()
@FUZZ_SETTINGS
def test_fuzz_admin(
    case: Any, admin: tuple[requests.Session, dict[str, str]], figures: dict[str, Figures]
) -> None:
    session, values = admin
    pin(case, values)
    call(case, session, figures["admin"])


@resident_schema.exclude(excluded_as_resident).parametrize()
@FUZZ_SETTINGS
def test_fuzz_resident(
    case: Any, resident: tuple[requests.Session, dict[str, str]], figures: dict[str, Figures]
) -> None:
    session, values = resident
    pin(case, values)
    call(case, session, figures["resident"])

"""The Publik connector against the w.c.s. stand-in on a loopback port: the GRU contract, the
signature (a known vector, a wrong key, an old timestamp, a reused nonce), failures that lose
nothing, the town's mapping, and the wiring through the settings and the real app."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from contact_center.app import create_app
from contact_center.db import Database, migrate, utcnow
from contact_center.errors import (
    CaseNotFoundError,
    GruUnavailableError,
    InvalidTransitionError,
)
from contact_center.gru.cases import CaseContact, CaseDraft, CaseStore
from contact_center.gru.connector import GruConnector, build_gru
from contact_center.gru.publik import TRACKING_CODE, PublikGru
from contact_center.gru.publik_mapping import DEMO_MAPPING_PATH, load_mapping, parse_mapping
from contact_center.gru.publik_signature import sign_query
from contact_center.gru.service_catalogue import ServiceCatalogue
from contact_center.services import Services
from contact_center.settings import GruSection
from contact_center.testing.chat_harness import sign_in
from contact_center.testing.contracts import GruContract, street_light
from contact_center.testing.publik_standin import DEMO_WORKFLOW, PublikStandIn, StandInWorkflow
from foundation.errors import ConfigurationError
from routing.service_definitions import DEMO_CATALOGUE
from routing.testing.fakes import FakeRequestClassifier
from tests.conftest import make_settings

ORIG = "centre-de-contact"
KEY = "cle-partagee-avec-la-ville"
MAPPING = load_mapping(DEMO_MAPPING_PATH)
SLUGS = sorted({slug for forms in MAPPING.forms.values() for slug in forms.values()})


@pytest.fixture
def catalogue(tmp_path: Path) -> ServiceCatalogue:
    """Both communes' catalogues (the demo's services), in SQLite."""
    database = Database(f"sqlite:///{tmp_path / 'catalogue.db'}")
    migrate(database.engine)
    catalogue = ServiceCatalogue(database)
    for tenant in ("demo", "autreville"):
        catalogue.seed(tenant, DEMO_CATALOGUE.values())
    return catalogue


@pytest.fixture
def wcs() -> Iterator[PublikStandIn]:
    with PublikStandIn(orig=ORIG, key=KEY, forms=SLUGS) as stand_in:
        yield stand_in


def connector(
    url: str,
    catalogue: ServiceCatalogue,
    *,
    key: str = KEY,
    clock: Callable[[], datetime] = utcnow,
    transport: httpx.BaseTransport | None = None,
) -> PublikGru:
    return PublikGru(
        url=url,
        orig=ORIG,
        key=key,
        mapping=MAPPING,
        catalogue=catalogue,
        timeout_s=5,
        clock=clock,
        transport=transport,
    )


@pytest.fixture
def gru(wcs: PublikStandIn, catalogue: ServiceCatalogue) -> Iterator[PublikGru]:
    publik = connector(wcs.url, catalogue)
    yield publik
    publik.close()


class TestPublikGru(GruContract):
    """The contract every connector passes, with Publik's own codes and numbers, on SQLite and
    PostgreSQL catalogues."""

    tracking_code_format = TRACKING_CODE
    number_format = re.compile(r"^\d+-\d+$")

    @pytest.fixture
    def gru(self, wcs: PublikStandIn, database_url: str) -> Iterator[GruConnector]:
        database = Database(database_url)
        migrate(database.engine)
        catalogue = ServiceCatalogue(database)
        for tenant in ("demo", "autreville"):
            catalogue.seed(tenant, DEMO_CATALOGUE.values())
        publik = connector(wcs.url, catalogue)
        yield publik
        publik.close()
        database.dispose()


# -- the signature ---------------------------------------------------------------------------


def test_the_signature_is_publiks_hmac_of_the_query_string() -> None:
    moment = datetime(2026, 5, 4, 10, 30, tzinfo=UTC).astimezone()  # any zone: sent in UTC
    signed = sign_query(f"orig={ORIG}", KEY, timestamp=moment, nonce="0f1e2d3c4b5a")
    base = f"orig={ORIG}&algo=sha256&timestamp=2026-05-04T10%3A30%3A00Z&nonce=0f1e2d3c4b5a"
    digest = hmac.new(KEY.encode(), base.encode(), hashlib.sha256).digest()
    assert signed == f"{base}&signature={quote(base64.b64encode(digest))}"
    # The same vector computed outside Python (openssl dgst -sha256 -hmac ... | base64).
    vector = sign_query(
        f"orig={ORIG}", KEY, timestamp=datetime(2026, 5, 4, 8, 30), nonce="0f1e2d3c4b5a"
    )
    assert vector.endswith("&signature=AZEKresdo702zIEo5BvWixi2YKHnJx0RikiRGprKV/s%3D")


def test_a_wrong_key_is_refused_and_nothing_is_filed(
    wcs: PublikStandIn, catalogue: ServiceCatalogue
) -> None:
    publik = connector(wcs.url, catalogue, key="une-autre-cle")
    with pytest.raises(GruUnavailableError) as raised:
        publik.file_case(street_light())
    assert "a refusé" in raised.value.message_fr and "rien n'y a été enregistré" in (
        raised.value.message_fr
    )
    assert raised.value.status_code == 503
    assert wcs.refusals == ["Invalid signature."]
    assert all(not forms for forms in wcs.forms.values())


def test_a_clock_out_of_step_is_refused(wcs: PublikStandIn, catalogue: ServiceCatalogue) -> None:
    late = connector(wcs.url, catalogue, clock=lambda: utcnow() - timedelta(minutes=2))
    with pytest.raises(GruUnavailableError):
        late.citizen_status("demo", "BCDFGHJK")
    assert wcs.refusals[0].startswith("timestamp is more than 30 seconds in the past")


def test_a_signed_url_cannot_be_replayed(wcs: PublikStandIn) -> None:
    url = f"{wcs.url}/api/code/BCDFGHJK?" + sign_query(urlencode({"orig": ORIG}), KEY)
    assert httpx.get(url).status_code == 404  # signed and checked: no such code
    replayed = httpx.get(url)
    assert replayed.status_code == 403
    assert replayed.json()["err_desc"] == "Nonce already used."


def test_unsigned_and_unknown_callers_are_refused(wcs: PublikStandIn) -> None:
    assert httpx.get(f"{wcs.url}/api/code/BCDFGHJK").status_code == 403
    other = sign_query(urlencode({"orig": "quelquun"}), KEY)
    assert httpx.get(f"{wcs.url}/api/code/BCDFGHJK?{other}").status_code == 403
    assert wcs.refusals == ["Unsigned API call.", "Invalid orig."]


# -- failures lose nothing ------------------------------------------------------------------


def test_an_unreachable_publik_is_a_clear_error(
    refused_port: int, catalogue: ServiceCatalogue
) -> None:
    publik = connector(f"http://127.0.0.1:{refused_port}", catalogue)
    with pytest.raises(GruUnavailableError) as raised:
        publik.file_case(street_light())
    assert raised.value.message_fr.startswith("La GRU Publik de la commune ne répond pas")
    with pytest.raises(GruUnavailableError):
        publik.citizen_status("demo", "BCDFGHJK")


def test_a_failing_publik_files_once_when_asked_again(gru: PublikGru, wcs: PublikStandIn) -> None:
    wcs.fail_next = 1
    with pytest.raises(GruUnavailableError) as raised:
        gru.file_case(street_light())
    assert "erreur" in raised.value.message_fr
    receipt = gru.file_case(street_light())
    assert list(wcs.forms["signalement-voirie"]) == [1]
    assert receipt.number == f"{wcs.formdefs['signalement-voirie']}-1"  # w.c.s. display_id


class _FormsUnreadable(httpx.HTTPTransport):
    """The network, except that reading a form back breaks the connection."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.startswith("/api/forms/"):
            raise httpx.ConnectError("connection reset", request=request)
        return super().handle_request(request)


def test_a_form_accepted_by_publik_is_never_reported_as_lost(
    wcs: PublikStandIn, catalogue: ServiceCatalogue
) -> None:
    publik = connector(wcs.url, catalogue, transport=_FormsUnreadable())
    receipt = publik.file_case(street_light())
    form = wcs.form("signalement-voirie", 1)
    assert receipt.tracking_code == form.tracking_code
    assert receipt.number == "1" and receipt.tracking_code in receipt.message


class _AnswerLost(httpx.HTTPTransport):
    """The network, except that the answer to a submitted form never comes back."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/submit"):
            response.close()
            raise httpx.ReadTimeout("timed out", request=request)
        return response


def test_an_answer_lost_on_the_way_back_says_the_case_may_be_filed(
    wcs: PublikStandIn, catalogue: ServiceCatalogue
) -> None:
    publik = connector(wcs.url, catalogue, transport=_AnswerLost())
    with pytest.raises(GruUnavailableError) as raised:
        publik.file_case(street_light())
    assert "a pu y être enregistrée" in raised.value.message_fr
    assert list(wcs.forms["signalement-voirie"]) == [1]  # it was: agents must check first


# -- what reaches the town's Publik, what residents and agents see ---------------------------


def test_the_form_receives_the_request_and_consented_contact_only(
    gru: PublikGru, wcs: PublikStandIn
) -> None:
    without = street_light(contact=CaseContact(email="jeanne@example.fr"))
    gru.file_case(without)
    with_consent = CaseDraft(
        "demo",
        "voirie",
        "phone",
        "Nid-de-poule",
        "Un trou profond.",
        location="Avenue de la Gare",
        contact=CaseContact(name="Jeanne Martin", phone="06 12 34 56 78", consent=True),
    )
    gru.file_case(with_consent)
    first, second = wcs.form("signalement-voirie", 1), wcs.form("signalement-voirie", 2)
    assert first.data == {
        "objet": "Lampadaire en panne",
        "description": "Le lampadaire ne s'allume plus.",
        "adresse": "12 rue des Lilas",
        "priorite": "normal",
    }
    assert second.data["nom"] == "Jeanne Martin" and second.data["telephone"] == "+33612345678"
    assert (first.channel, second.channel) == ("web", "phone")


def test_a_service_without_a_form_goes_to_the_general_reception(
    gru: PublikGru, wcs: PublikStandIn
) -> None:
    receipt = gru.file_case(CaseDraft("demo", "elections", "web", "Procuration", "Question."))
    assert receipt.service == "affaires_generales"
    assert receipt.service_name == DEMO_CATALOGUE["affaires_generales"].name
    assert wcs.form("demande-generale", 1).data["objet"] == "Procuration"


def test_agents_moves_reach_the_workflow_with_their_reason(
    gru: PublikGru, wcs: PublikStandIn
) -> None:
    receipt = gru.file_case(street_light())
    gru.update_status("demo", receipt.case_id, "acknowledged", "agent-voirie")
    gru.update_status("demo", receipt.case_id, "waiting_for_resident", "agent-voirie", "Photo ?")
    form = wcs.form("signalement-voirie", 1)
    assert form.status == "waiting"
    assert [jump["workflow_data"] for jump in form.jumps] == [
        {"actor": "agent-voirie", "reason": ""},
        {"actor": "agent-voirie", "reason": "Photo ?"},
    ]
    status = gru.citizen_status("demo", receipt.tracking_code)
    assert status is not None and status.status_label == "En attente de votre réponse"


def test_a_status_the_mapping_does_not_name_is_shown_under_publiks_name(
    gru: PublikGru, wcs: PublikStandIn
) -> None:
    receipt = gru.file_case(street_light())
    wcs.set_status("signalement-voirie", 1, "archived")
    status = gru.citizen_status("demo", receipt.tracking_code)
    assert status is not None and status.status_label == "Archivé"


def test_a_move_the_towns_workflow_does_not_offer_is_refused(
    catalogue: ServiceCatalogue,
) -> None:
    no_acceptance = StandInWorkflow(
        statuses=DEMO_WORKFLOW.statuses,
        initial="new",
        jumps={"new": {"rejet": "rejected"}},
    )
    with PublikStandIn(orig=ORIG, key=KEY, forms=SLUGS, workflow=no_acceptance) as wcs:
        publik = connector(wcs.url, catalogue)
        receipt = publik.file_case(street_light())
        with pytest.raises(InvalidTransitionError) as raised:
            publik.update_status("demo", receipt.case_id, "acknowledged", "agent", None)
        publik.close()
    assert "ne peut pas passer au statut" in raised.value.message_fr
    assert wcs.form("signalement-voirie", 1).status == "new"


def test_case_ids_of_another_form_are_not_found(gru: PublikGru) -> None:
    for case_id in ("voirie:99", "elections:1", "n'importe quoi", "voirie:1/../2"):
        with pytest.raises(CaseNotFoundError):
            gru.update_status("demo", case_id, "acknowledged", "agent", None)


# -- the mapping and the settings ------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"statuses": {"recu": ["new"]}}, "statut inconnu : « recu »"),
        (
            {"statuses": {"received": ["new"], "acknowledged": ["new"]}},
            "le statut w.c.s. « new » est attribué deux fois",
        ),
        (
            {"tenants": {"demo": {"forms": {"voirie": "f"}}, "b": {"forms": {"voirie": "f"}}}},
            "le formulaire « f » est attribué à deux communes",
        ),
        ({"tenants": {"demo": {"forms": {"piscine": "f"}}}}, "service inconnu"),
        ({"fields": {"age": "age"}}, "champ inconnu"),
    ],
)
def test_a_mapping_that_cannot_work_is_refused(change: dict[str, Any], message: str) -> None:
    data = json.loads(DEMO_MAPPING_PATH.read_text(encoding="utf-8"))
    data.update(change)
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        parse_mapping(data)


def test_the_publik_backend_needs_its_address_and_key() -> None:
    with pytest.raises(ValidationError, match="url, orig, key, mapping_file"):
        GruSection(backend="publik")


def test_the_settings_build_the_publik_connector(
    wcs: PublikStandIn, catalogue: ServiceCatalogue, tmp_path: Path
) -> None:
    section = GruSection.model_validate(
        {
            "backend": "publik",
            "publik": {"url": wcs.url, "orig": ORIG, "key": KEY, "mapping_file": DEMO_MAPPING_PATH},
        }
    )
    cases = CaseStore(Database(f"sqlite:///{tmp_path / 'cases.db'}"))
    built = build_gru(section, cases, catalogue)
    assert isinstance(built, PublikGru)
    assert TRACKING_CODE.match(built.file_case(street_light()).tracking_code)
    built.close()


def test_through_the_app_agents_file_and_residents_follow_in_publik(
    wcs: PublikStandIn, tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path,
        embeddings={"backend": "fake"},
        notifications={"backend": "fake", "dispatch_interval_s": 0},
        gru={
            "backend": "publik",
            "publik": {"url": wcs.url, "orig": ORIG, "key": KEY, "mapping_file": DEMO_MAPPING_PATH},
        },
    )
    services = Services(settings, classifier=FakeRequestClassifier())
    with TestClient(create_app(services=services)) as api:
        sign_in(api, role="supervisor")
        filed = api.post(
            "/api/v1/tenants/demo/cases",
            json={"service": "voirie", "summary": "Nid-de-poule", "description": "Profond."},
        )
        assert filed.status_code == 201, filed.text
        code = filed.json()["tracking_code"]
        assert wcs.form("signalement-voirie", 1).tracking_code == code
        found = api.get(f"/api/v1/tenants/demo/suivi/{code.lower()}")
        assert found.status_code == 200 and found.json()["status_label"] == "Reçue"
        wcs.stop()
        down = api.get(f"/api/v1/tenants/demo/suivi/{code}")
    assert down.status_code == 503
    assert down.json()["message"].startswith("La GRU Publik de la commune ne répond pas")

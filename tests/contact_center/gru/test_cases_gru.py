"""The GRU port's contract, run against every implementation (built-in store and fake).

A town plugging its own GRU runs the same :class:`GruContract` against its connector.
"""

from __future__ import annotations

import re

import pytest

from contact_center.db import Database, migrate
from contact_center.errors import CaseNotFoundError, InvalidCaseError, InvalidTransitionError
from contact_center.gru.cases import CaseContact, CaseDraft, CaseStatus, CaseStore
from contact_center.gru.connector import BuiltinGru, FakeGru, GruConnector, build_gru
from contact_center.gru.service_catalogue import ServiceCatalogue
from contact_center.settings import GruSection
from routing.service_definitions import DEMO_CATALOGUE

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}$")


def street_light(tenant_id: str = "demo", contact: CaseContact | None = None) -> CaseDraft:
    return CaseDraft(
        tenant_id=tenant_id,
        service="voirie",
        channel="web",
        summary="Lampadaire en panne",
        description="Le lampadaire ne s'allume plus.",
        location="12 rue des Lilas",
        contact=contact,
        priority="normal",
        actor="assistant",
    )


class GruContract:
    """What every :class:`~contact_center.gru.connector.GruConnector` must do."""

    @pytest.fixture
    def gru(self) -> GruConnector:
        raise NotImplementedError

    def test_filing_returns_a_receipt_with_a_tracking_code(self, gru: GruConnector) -> None:
        receipt = gru.file_case(street_light())
        assert CODE.match(receipt.tracking_code)
        assert re.fullmatch(r"\d{4}-\d{6}", receipt.number)
        assert receipt.service == "voirie" and receipt.status is CaseStatus.RECEIVED
        assert receipt.status_label == "Reçue"
        assert receipt.service_name == "Service Voirie et espaces publics"
        assert receipt.tracking_code in receipt.message

    def test_the_citizen_status_follows_the_case(self, gru: GruConnector) -> None:
        receipt = gru.file_case(street_light())
        typed = receipt.tracking_code.lower().replace("-", " ")
        status = gru.citizen_status("demo", typed)
        assert status is not None and status.status_label == "Reçue"
        assert status.due_date == receipt.due_date
        gru.update_status("demo", receipt.case_id, "acknowledged", "agent-voirie", None)
        status = gru.citizen_status("demo", receipt.tracking_code)
        assert status is not None and status.status_label == "Prise en charge"

    def test_codes_do_not_cross_communes(self, gru: GruConnector) -> None:
        receipt = gru.file_case(street_light())
        assert gru.citizen_status("autreville", receipt.tracking_code) is None
        assert gru.citizen_status("demo", "0000-0000-00") is None
        assert gru.citizen_status("demo", "n'importe quoi") is None
        with pytest.raises(CaseNotFoundError):
            gru.update_status("autreville", receipt.case_id, "acknowledged", "agent", None)

    def test_the_life_cycle_is_enforced(self, gru: GruConnector) -> None:
        receipt = gru.file_case(street_light())
        with pytest.raises(InvalidTransitionError):
            gru.update_status("demo", receipt.case_id, CaseStatus.CLOSED, "agent", None)

    def test_contact_without_consent_is_not_kept(self, gru: GruConnector) -> None:
        receipt = gru.file_case(street_light(contact=CaseContact(email="a@b.fr")))
        assert receipt.contact_kept is False
        kept = gru.file_case(street_light(contact=CaseContact(email="a@b.fr", consent=True)))
        assert kept.contact_kept is True

    def test_bad_drafts_are_refused(self, gru: GruConnector) -> None:
        with pytest.raises(InvalidCaseError):
            gru.file_case(CaseDraft("demo", "piscine", "web", "Horaires", ""))


class TestBuiltinGru(GruContract):
    @pytest.fixture
    def gru(self, database_url: str) -> GruConnector:
        database = Database(database_url)
        migrate(database.engine)
        for tenant in ("demo", "autreville"):
            ServiceCatalogue(database).seed(tenant, DEMO_CATALOGUE.values())
        built = build_gru(GruSection(), CaseStore(database))
        assert isinstance(built, BuiltinGru)
        return built


class TestFakeGru(GruContract):
    @pytest.fixture
    def gru(self) -> GruConnector:
        return FakeGru()

    def test_the_fake_keeps_what_it_was_given(self) -> None:
        fake = FakeGru()
        receipt = fake.file_case(street_light(contact=CaseContact(email="a@b.fr")))
        assert fake.filed[0].contact is None  # dropped without consent, as the real store does
        fake.update_status("demo", receipt.case_id, "acknowledged", "agent", "vu")
        assert fake.changes == [(receipt.case_id, CaseStatus.ACKNOWLEDGED, "agent", "vu")]

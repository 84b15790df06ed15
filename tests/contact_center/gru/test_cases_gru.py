"""The GRU port's contract (:class:`contact_center.testing.contracts.GruContract`), run
against the built-in store and the fake, as a town runs it against its own connector."""

from __future__ import annotations

import pytest

from contact_center.db import Database, migrate
from contact_center.gru.cases import CaseContact, CaseStatus, CaseStore
from contact_center.gru.connector import BuiltinGru, GruConnector, build_gru
from contact_center.gru.service_catalogue import ServiceCatalogue
from contact_center.settings import GruSection
from contact_center.testing.contracts import GruContract, street_light
from contact_center.testing.fakes import FakeGru
from routing.service_definitions import DEMO_CATALOGUE


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

"""The service catalogue as editable data, and the cases migration, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from contact_center.db import MIGRATIONS_DIR, Database, migrate
from contact_center.errors import InvalidCaseError
from contact_center.gru.service_catalogue import ServiceCatalogue, seed_catalogues
from foundation.errors import ImportFormatError
from routing.service_definitions import (
    DEMO_CATALOGUE,
    DEMO_CATALOGUE_PATH,
    SERVICE_CODES,
    load_catalogue,
    service_to_dict,
)

CASE_TABLES = {"services", "case_counters", "cases", "case_events", "notifications"}


@pytest.fixture
def database(database_url: str) -> Database:
    database = Database(database_url)
    migrate(database.engine)
    return database


def alembic(database: Database, action: str, revision: str) -> None:
    """Run ``alembic upgrade|downgrade`` on the database, as contact_center.db.migrate does."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def test_the_demo_catalogue_is_read_from_its_data_file() -> None:
    data = json.loads(DEMO_CATALOGUE_PATH.read_text(encoding="utf-8"))
    assert [entry["code"] for entry in data["services"]] == list(SERVICE_CODES)
    assert "Données de démonstration" in data["about"]
    assert [service_to_dict(s) for s in DEMO_CATALOGUE.values()] == data["services"]


def test_a_malformed_catalogue_file_is_refused(tmp_path: Path) -> None:
    entry = service_to_dict(DEMO_CATALOGUE["voirie"])
    cases = {
        "not-json.json": "{",
        "unknown.json": json.dumps({"services": [{**entry, "code": "piscine"}]}),
        "twice.json": json.dumps({"services": [entry, entry]}),
        "missing.json": json.dumps({"services": [{"code": "voirie"}]}),
        "days.json": json.dumps({"services": [{**entry, "target_response_days": 0}]}),
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        with pytest.raises(ImportFormatError):
            load_catalogue(path)


def test_seeding_is_idempotent_and_keeps_a_towns_edits(database: Database) -> None:
    catalogue = ServiceCatalogue(database)
    assert seed_catalogues(catalogue, ["demo", "autreville"], {}) == {"demo": 12}
    catalogue.update("demo", "voirie", {"phone": "01 99 00 99 99", "target_response_days": 8})
    assert seed_catalogues(catalogue, ["demo"], {}) == {"demo": 0}

    voirie = catalogue.get("demo", "voirie")
    assert voirie is not None
    assert (voirie.phone, voirie.target_response_days) == ("01 99 00 99 99", 8)
    assert [entry.code for entry in catalogue.list("demo")] == list(SERVICE_CODES)
    assert catalogue.list("autreville") == []


def test_a_town_seeds_from_its_own_file_and_gets_new_services_only(
    database: Database, tmp_path: Path
) -> None:
    own = {"services": [service_to_dict(replace(DEMO_CATALOGUE["voirie"], name="Voirie"))]}
    path = tmp_path / "autreville.json"
    path.write_text(json.dumps(own), encoding="utf-8")
    catalogue = ServiceCatalogue(database)
    assert seed_catalogues(catalogue, ["autreville"], {"autreville": path}) == {"autreville": 1}

    own["services"].append(service_to_dict(DEMO_CATALOGUE["elections"]))
    own["services"][0]["name"] = "Changed in the file, not in the database"
    path.write_text(json.dumps(own), encoding="utf-8")
    assert seed_catalogues(catalogue, ["autreville"], {"autreville": path}) == {"autreville": 1}
    names = {entry.code: entry.name for entry in catalogue.list("autreville")}
    assert names == {"voirie": "Voirie", "elections": "Service Élections"}


def test_catalogue_updates_are_checked(database: Database) -> None:
    catalogue = ServiceCatalogue(database)
    catalogue.seed("demo", DEMO_CATALOGUE.values())
    with pytest.raises(InvalidCaseError, match="non modifiables"):
        catalogue.update("demo", "voirie", {"code": "routes"})
    with pytest.raises(InvalidCaseError, match="délai"):
        catalogue.update("demo", "voirie", {"target_response_days": 0})
    assert catalogue.update("demo", "piscine", {"name": "Piscine"}) is None
    assert catalogue.get("autreville", "voirie") is None

    catalogue.update("demo", "stationnement", {"active": False, "extra": {"bureau": "B12"}})
    active = [entry.code for entry in catalogue.list("demo", active_only=True)]
    assert "stationnement" not in active and len(active) == 11
    stationnement = catalogue.get("demo", "stationnement")
    assert stationnement is not None and stationnement.extra == {"bureau": "B12"}
    assert stationnement.as_service() == DEMO_CATALOGUE["stationnement"]


def test_the_cases_migration_goes_down_and_up_again(database: Database) -> None:
    tables = set(inspect(database.engine).get_table_names())
    assert tables >= CASE_TABLES
    columns = {c["name"] for c in inspect(database.engine).get_columns("conversations")}
    assert "state" in columns

    alembic(database, "downgrade", "0001")
    inspector = inspect(database.engine)
    assert not (set(inspector.get_table_names()) & CASE_TABLES)
    assert "state" not in {c["name"] for c in inspector.get_columns("conversations")}

    migrate(database.engine)
    assert set(inspect(database.engine).get_table_names()) >= CASE_TABLES
    catalogue = ServiceCatalogue(database)
    assert catalogue.seed("demo", DEMO_CATALOGUE.values()) == 12

"""``contact-center commune``: a commune, its services and first administrator from the shell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contact_center.agents.authentication import Authentication
from contact_center.cli import main
from contact_center.db import Database
from contact_center.gru.service_catalogue import ServiceCatalogue
from contact_center.settings import Settings
from routing.service_definitions import DEMO_CATALOGUE, service_to_dict


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Settings:
    monkeypatch.setenv("CC_APP__DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CC_DATABASE__URL", database_url)
    return Settings()


def test_a_commune_is_created_with_its_services_and_its_first_administrator(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roads = {**service_to_dict(DEMO_CATALOGUE["voirie"]), "phone": "02 00 00 00 01"}
    roads["opening_hours"] = "Du lundi au jeudi de 9 h à 12 h."
    catalogue = tmp_path / "ville-b.json"
    catalogue.write_text(json.dumps({"services": [roads]}), encoding="utf-8")
    create = ["commune", "create", "--id", "ville-b", "--name", "Ville de B"]
    create += ["--admin-email", "admin@ville-b.fr", "--services", str(catalogue)]

    assert main(create) == 0
    printed = capsys.readouterr().out
    password = printed.rsplit(":", 1)[1].strip()
    database = Database(cli_env.database_url)
    (service,) = ServiceCatalogue(database).list("ville-b")
    assert (service.code, service.phone) == ("voirie", "02 00 00 00 01")
    assert service.opening_hours == "Du lundi au jeudi de 9 h à 12 h."
    admin = Authentication(cli_env, database).accounts.authenticate(
        "ville-b", "admin@ville-b.fr", password
    )
    assert admin.role == "admin"

    assert main(["commune", "list", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(c["id"], c["name"]) for c in listed][0] == ("demo", cli_env.app.tenants["demo"])
    assert ("ville-b", "Ville de B") in [(c["id"], c["name"]) for c in listed]
    # The agents' commands now know the commune, without any settings changed.
    agents = ["agents", "create", "--tenant", "ville-b", "--email", "a@ville-b.fr", "--sso-only"]
    assert main(agents) == 0


def test_without_services_the_commune_gets_the_demo_list_under_its_own_name(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    create = ["commune", "create", "--id", "bellerive", "--name", "Bellerive"]
    assert main([*create, "--admin-email", "admin@bellerive.fr"]) == 0
    services = ServiceCatalogue(Database(cli_env.database_url)).list("bellerive")
    assert [s.code for s in services] == list(DEMO_CATALOGUE)
    assert all("Val-Fleuri" not in s.address for s in services)
    assert "Bellerive" in services[0].address

    assert main([*create, "--admin-email", "autre@bellerive.fr"]) == 1
    assert "déjà desservie" in capsys.readouterr().err
    bad = ["commune", "create", "--id", "Ville B", "--name", "B", "--admin-email", "a@b.fr"]
    assert main(bad) == 1
    assert "Identifiant de commune invalide" in capsys.readouterr().err

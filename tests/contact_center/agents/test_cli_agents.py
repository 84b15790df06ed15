"""``contact-center agents``: the first administrator and the agents, from the command line."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from contact_center.cli import main
from contact_center.db import Database
from contact_center.errors import SignInRefusedError
from contact_center.settings import Settings

PASSWORD = "Hotel-de-Ville-2026"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Settings:
    monkeypatch.setenv("CC_APP__DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CC_DATABASE__URL", database_url)
    return Settings()


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def listed(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    capsys.readouterr()
    assert main(["agents", "list", "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_create_admin_creates_the_first_administrator(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin(monkeypatch, PASSWORD + "\n")
    code = main(
        [
            "agents",
            "create-admin",
            "--tenant",
            "demo",
            "--email",
            "Admin@Val-Fleuri.example",
            "--name",
            "Maire adjointe",
            "--password-stdin",
        ]
    )
    assert code == 0
    assert "Compte créé : admin@val-fleuri.example (admin" in capsys.readouterr().out
    (admin,) = listed(capsys)
    assert admin["role"] == "admin" and admin["tenant"] == "demo" and admin["password"]

    from contact_center.agents.authentication import Authentication

    database = Database(cli_env.database_url)
    try:
        accounts = Authentication(cli_env, database).accounts
        assert accounts.authenticate("demo", "admin@val-fleuri.example", PASSWORD).role == "admin"
        with pytest.raises(SignInRefusedError):
            accounts.authenticate("demo", "admin@val-fleuri.example", PASSWORD + "!")
    finally:
        database.dispose()


def test_create_an_agent_of_services_with_the_password_asked_twice(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code = main(
        [
            "agents",
            "create",
            "--tenant",
            "demo",
            "--email",
            "voirie@val-fleuri.example",
            "--role",
            "agent",
            "--service",
            "voirie",
            "--service",
            "proprete_dechets",
        ]
    )
    assert code == 0
    (agent,) = listed(capsys)
    assert agent["role"] == "agent"
    assert agent["services"] == ["proprete_dechets", "voirie"]


def test_refusals_are_explained_in_french(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin(monkeypatch, "court\n")
    args = ["agents", "create-admin", "--tenant", "demo", "--email", "a@val-fleuri.example"]
    assert main([*args, "--password-stdin"]) == 1
    assert "Mot de passe refusé" in capsys.readouterr().err
    assert (
        main(
            [
                "agents",
                "create-admin",
                "--tenant",
                "nulle-part",
                "--email",
                "a@val-fleuri.example",
                "--sso-only",
            ]
        )
        == 2
    )
    assert "commune inconnue" in capsys.readouterr().err
    assert (
        main(
            [
                "agents",
                "create",
                "--tenant",
                "demo",
                "--email",
                "a@val-fleuri.example",
                "--service",
                "voiries",
                "--sso-only",
            ]
        )
        == 1
    )
    assert "Service inconnu" in capsys.readouterr().err
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(SystemExit, match="diffèrent"):
        main(args)
    assert listed(capsys) == []


def test_set_password_replaces_it_and_ends_the_agents_sessions(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from contact_center.agents.authentication import Authentication

    email = "etat-civil@val-fleuri.example"
    stdin(monkeypatch, PASSWORD + "\n")
    assert main(["agents", "create-admin", "--tenant", "demo", "--email", email,
                 "--password-stdin"]) == 0  # fmt: skip
    database = Database(cli_env.database_url)
    try:
        auth = Authentication(cli_env, database)
        agent = auth.accounts.authenticate("demo", email, PASSWORD)
        opened = auth.sessions.open(agent)
        assert auth.sessions.resolve(opened.token) is not None
        capsys.readouterr()

        stdin(monkeypatch, "Nouveau-mot-2-passe-2026\n")
        args = ["agents", "set-password", "--tenant", "demo", "--email", email]
        assert main([*args, "--password-stdin"]) == 0
        assert "Mot de passe remplacé ; 1 session(s) fermée(s)." in capsys.readouterr().out
        assert auth.sessions.resolve(opened.token) is None
        assert auth.accounts.authenticate("demo", email, "Nouveau-mot-2-passe-2026").id == agent.id
        with pytest.raises(SignInRefusedError):
            auth.accounts.authenticate("demo", email, PASSWORD)

        stdin(monkeypatch, "Nouveau-mot-2-passe-2026\n")
        unknown = ["agents", "set-password", "--tenant", "demo", "--email", "x@val-fleuri.example"]
        assert main([*unknown, "--password-stdin"]) == 1
        assert "aucun compte ne correspond à cette adresse" in capsys.readouterr().err
    finally:
        database.dispose()

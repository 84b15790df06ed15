"""Accounts, passwords, sessions and the access policy, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from contact_center.agents.accounts import AccountStore, Agent, conversation_services
from contact_center.agents.audit import AuditLog
from contact_center.agents.passwords import password_problems
from contact_center.agents.schema import AgentRow
from contact_center.agents.sessions import SessionStore
from contact_center.db import Database, migrate
from contact_center.errors import (
    AgentExistsError,
    SignInRefusedError,
    UnknownServiceError,
    WeakPasswordError,
)

PASSWORD = "Rue-des-Lilas-1789"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def database(database_url: str) -> Database:
    db = Database(database_url)
    migrate(db.engine)
    yield db  # type: ignore[misc]
    db.dispose()


@pytest.fixture
def accounts(database: Database) -> AccountStore:
    return AccountStore(database, AuditLog(database))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sessions(database: Database, clock: Clock) -> SessionStore:
    return SessionStore(
        database, idle=timedelta(minutes=30), absolute=timedelta(hours=10), clock=clock
    )


def test_the_password_is_stored_as_an_argon2id_hash(
    accounts: AccountStore, database: Database
) -> None:
    agent = accounts.create_agent(
        "demo",
        "Alice.Martin@Val-Fleuri.example",
        "Alice Martin",
        password=PASSWORD,
        services=["voirie"],
    )
    with database.session() as session:
        row = session.scalars(select(AgentRow)).one()
    assert row.password_hash and row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    assert row.email == "alice.martin@val-fleuri.example"
    assert agent.services == frozenset({"voirie"}) and agent.role == "agent"


def test_authenticate_accepts_the_right_password_only(accounts: AccountStore) -> None:
    created = accounts.create_agent("demo", "alice@val-fleuri.example", "Alice", password=PASSWORD)
    assert accounts.authenticate("demo", "ALICE@val-fleuri.example ", PASSWORD) == created
    for tenant, email, password in (
        ("demo", "alice@val-fleuri.example", PASSWORD + "x"),
        ("demo", "personne@val-fleuri.example", PASSWORD),
        ("autreville", "alice@val-fleuri.example", PASSWORD),
    ):
        with pytest.raises(SignInRefusedError) as refused:
            accounts.authenticate(tenant, email, password)
        assert str(refused.value) == "Adresse électronique ou mot de passe incorrect."


def test_a_deactivated_or_sso_only_agent_cannot_sign_in_with_a_password(
    accounts: AccountStore,
) -> None:
    alice = accounts.create_agent("demo", "alice@val-fleuri.example", "Alice", password=PASSWORD)
    accounts.create_agent("demo", "sso@val-fleuri.example", "Sso")
    accounts.update(alice.id, active=False)
    with pytest.raises(SignInRefusedError):
        accounts.authenticate("demo", "alice@val-fleuri.example", PASSWORD)
    with pytest.raises(SignInRefusedError):
        accounts.authenticate("demo", "sso@val-fleuri.example", "")


def test_weak_passwords_are_refused_with_every_reason_in_french(accounts: AccountStore) -> None:
    with pytest.raises(WeakPasswordError) as refused:
        accounts.create_agent("demo", "alice@val-fleuri.example", "Alice", password="alice")
    message = refused.value.message_fr
    assert "au moins 12 caractères" in message
    assert "trois types de caractères" in message
    assert "adresse électronique" in message
    assert password_problems("correct-horse-battery") != []  # one kind of character only
    assert password_problems(PASSWORD) == []
    assert accounts.list() == []


def test_one_email_per_commune_and_known_services_only(accounts: AccountStore) -> None:
    accounts.create_agent("demo", "alice@val-fleuri.example", "Alice", password=PASSWORD)
    with pytest.raises(AgentExistsError):
        accounts.create_agent("demo", "Alice@val-fleuri.example", "Alice bis", password=PASSWORD)
    other = accounts.create_agent(
        "autreville", "alice@val-fleuri.example", "Alice", password=PASSWORD
    )
    assert other.tenant_id == "autreville"
    with pytest.raises(UnknownServiceError):
        accounts.add_service(other.id, "voiries")


def test_service_membership_can_be_added_and_removed(accounts: AccountStore) -> None:
    agent = accounts.create_agent("demo", "bob@val-fleuri.example", "Bob", password=PASSWORD)
    accounts.add_service(agent.id, "voirie")
    accounts.add_service(agent.id, "voirie")
    accounts.add_service(agent.id, "etat_civil")
    accounts.remove_service(agent.id, "voirie")
    assert accounts.get(agent.id).services == frozenset({"etat_civil"})  # type: ignore[union-attr]
    (listed,) = accounts.list("demo")
    assert listed.agent.services == frozenset({"etat_civil"}) and listed.has_password


def test_changes_and_sign_ins_are_in_the_audit_log(
    accounts: AccountStore, database: Database
) -> None:
    agent = accounts.create_agent(
        "demo", "bob@val-fleuri.example", "Bob", password=PASSWORD, actor="cli"
    )
    accounts.add_service(agent.id, "voirie", actor="admin-1")
    accounts.authenticate("demo", "bob@val-fleuri.example", PASSWORD)
    with pytest.raises(SignInRefusedError):
        accounts.authenticate("demo", "bob@val-fleuri.example", "mauvais")
    entries = AuditLog(database).list("demo")
    assert {(e.actor, e.action) for e in entries} == {
        ("cli", "agent.created"),
        ("admin-1", "agent.service_added"),
        (agent.id, "auth.login"),
        (agent.id, "auth.login_failed"),
    }
    assert all("mauvais" not in str(e.details) and PASSWORD not in str(e.details) for e in entries)


def test_a_session_resolves_until_it_is_idle_for_too_long(
    accounts: AccountStore, sessions: SessionStore, clock: Clock
) -> None:
    agent = accounts.create_agent("demo", "bob@val-fleuri.example", "Bob", password=PASSWORD)
    opened = sessions.open(agent)
    for _ in range(4):  # activity every 25 minutes keeps it alive past the idle limit
        clock.advance(minutes=25)
        resolved = sessions.resolve(opened.token)
        assert resolved is not None and resolved.agent == agent
        assert resolved.csrf_token == opened.csrf_token
    clock.advance(minutes=30)
    assert sessions.resolve(opened.token) is None
    clock.advance(minutes=-30)  # deleted, not merely hidden by the clock
    assert sessions.resolve(opened.token) is None


def test_a_session_ends_at_its_absolute_expiry_whatever_the_activity(
    accounts: AccountStore, sessions: SessionStore, clock: Clock
) -> None:
    agent = accounts.create_agent("demo", "bob@val-fleuri.example", "Bob", password=PASSWORD)
    opened = sessions.open(agent)
    assert opened.expires_at == clock.now + timedelta(hours=10)
    for _ in range(39):  # 9 h 45 of steady activity
        clock.advance(minutes=15)
        assert sessions.resolve(opened.token) is not None
    clock.advance(minutes=15)
    assert sessions.resolve(opened.token) is None


def test_sessions_close_one_by_one_or_all_together_and_with_deactivation(
    accounts: AccountStore, sessions: SessionStore
) -> None:
    agent = accounts.create_agent("demo", "bob@val-fleuri.example", "Bob", password=PASSWORD)
    first, second, third = (sessions.open(agent) for _ in range(3))
    assert sessions.close(first.token) and sessions.resolve(first.token) is None
    assert sessions.resolve(second.token) is not None
    assert sessions.close_all_for_agent(agent.id) == 2
    assert sessions.resolve(third.token) is None
    fourth = sessions.open(agent)
    accounts.update(agent.id, active=False)
    assert sessions.resolve(fourth.token) is None
    assert sessions.resolve("not-a-token") is None and sessions.resolve(None) is None


def test_the_database_holds_no_session_token(
    accounts: AccountStore, sessions: SessionStore, database: Database
) -> None:
    from contact_center.agents.schema import AgentSessionRow

    agent = accounts.create_agent("demo", "bob@val-fleuri.example", "Bob", password=PASSWORD)
    opened = sessions.open(agent, user_agent="Firefox")
    with database.session() as session:
        row = session.scalars(select(AgentSessionRow)).one()
    assert opened.token not in (row.id, row.csrf_token) and len(row.id) == 64


def _agent(role: str = "agent", services: tuple[str, ...] = (), tenant: str = "demo") -> Agent:
    return Agent("a1", tenant, role, frozenset(services), "a@x.example", "A")  # type: ignore[arg-type]


def test_agents_read_their_services_supervisors_their_commune_nobody_another() -> None:
    voirie = _agent(services=("voirie",))
    assert voirie.can_read("demo", "voirie")
    assert not voirie.can_read("demo", "etat_civil")
    assert not voirie.can_read("autreville", "voirie")
    assert not voirie.can_read("demo", None)  # not routed: the general reception's
    assert _agent(services=("affaires_generales",)).can_read("demo", None)
    for role in ("supervisor", "admin"):
        assert _agent(role).can_read("demo", "etat_civil") and _agent(role).can_read("demo", None)
        assert not _agent(role).can_read("autreville", "etat_civil")
    assert _agent("admin").has_role("supervisor") and not _agent("supervisor").has_role("admin")


def test_a_conversation_belongs_to_its_confidently_routed_services() -> None:
    routed = {"routing": {"service": "voirie", "needs_triage": False}}
    unsure = {"routing": {"service": "urbanisme", "needs_triage": True}}
    assert conversation_services([routed, {"routing": None}]) == {"voirie"}
    assert conversation_services([unsure]) == {"affaires_generales"}
    assert conversation_services([]) == {"affaires_generales"}


def test_the_accounts_migration_goes_down_and_up_again(database: Database) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from contact_center.db import MIGRATIONS_DIR

    tables = {"agents", "agent_services", "agent_sessions", "audit_log"}
    assert tables <= set(inspect(database.engine).get_table_names())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003_record_routing")
    assert not tables & set(inspect(database.engine).get_table_names())
    migrate(database.engine)
    assert tables <= set(inspect(database.engine).get_table_names())

"""Cases on SQLite and PostgreSQL: filing, numbering, life cycle, history, consent, tracking."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, select, text, update

from contact_center.conversation.store import ConversationStore
from contact_center.db import Database, migrate
from contact_center.errors import (
    CaseNotFoundError,
    InvalidCaseError,
    InvalidTransitionError,
)
from contact_center.gru.cases import (
    CaseContact,
    CaseDraft,
    CaseStatus,
    CaseStore,
    CaseUpdate,
    CitizenCaseStatus,
)
from contact_center.gru.notifications import NotificationDispatcher
from contact_center.gru.schema import AppendOnlyError, Case, CaseEvent, Notification
from contact_center.gru.service_catalogue import ServiceCatalogue
from contact_center.testing.fakes import FakeNotifier
from routing.service_definitions import DEMO_CATALOGUE
from tests.contact_center.gru.contact_support import confirm_contacts

#: Friday 15 May 2026, 18:45 in Paris (summer time, UTC+2).
FRIDAY_EVENING = datetime(2026, 5, 15, 16, 45, tzinfo=UTC)


class Clock:
    """A settable UTC clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def database(database_url: str) -> Database:
    database = Database(database_url)
    migrate(database.engine)
    catalogue = ServiceCatalogue(database)
    catalogue.seed("demo", DEMO_CATALOGUE.values())
    other = [replace(s, name=f"{s.name} d'Autreville") for s in DEMO_CATALOGUE.values()]
    catalogue.seed("autreville", other)
    return database


@pytest.fixture
def clock() -> Clock:
    return Clock(FRIDAY_EVENING)


@pytest.fixture
def store(database: Database, clock: Clock) -> CaseStore:
    return CaseStore(database, tenant_names={"demo": "Ville de Val-Fleuri"}, clock=clock)


def draft(**overrides: object) -> CaseDraft:
    values: dict[str, object] = {
        "tenant_id": "demo",
        "service": "voirie",
        "channel": "web",
        "summary": "Lampadaire en panne",
        "description": "Le lampadaire devant chez moi ne s'allume plus depuis trois jours.",
        "location": "12 rue des Lilas",
    }
    values.update(overrides)
    return CaseDraft(**values)  # type: ignore[arg-type]


def outbox(database: Database) -> list[Notification]:
    with database.session() as session:
        return list(session.scalars(select(Notification).order_by(Notification.created_at)))


def test_filing_numbers_the_case_and_counts_working_days(store: CaseStore) -> None:
    first = store.file(draft(service="etat_civil", summary="Copie d'acte de naissance"))
    second = store.file(draft())
    elsewhere = store.file(draft(tenant_id="autreville"))

    assert (first.number, second.number, elsewhere.number) == (
        "2026-000001",
        "2026-000002",
        "2026-000001",
    )
    assert first.status is CaseStatus.RECEIVED and first.status_label == "Reçue"
    assert first.service_name == "Service État civil"
    # Filed on Friday evening: three working days are Monday, Tuesday, Wednesday.
    assert first.due_date == date(2026, 5, 20)
    # Five working days for the roads: Friday 22 May.
    assert second.due_date == date(2026, 5, 22)
    assert "2026-000002" in second.message and second.tracking_code in second.message


def test_the_number_takes_the_year_in_paris(store: CaseStore, clock: Clock) -> None:
    clock.now = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # already 1 January 2027 in Paris
    receipt = store.file(draft(service="etat_civil"))
    assert receipt.number == "2027-000001"
    # 1 January is a holiday (Friday): Monday 4, Tuesday 5, Wednesday 6 January.
    assert receipt.due_date == date(2027, 1, 6)


def test_life_cycle_is_recorded_in_the_history(store: CaseStore, clock: Clock) -> None:
    receipt = store.file(draft(actor="assistant"))
    steps = [
        ("acknowledged", "agent-voirie", None),
        ("in_progress", "agent-voirie", "Intervention programmée"),
        ("waiting_for_resident", "agent-voirie", "Merci de préciser le numéro du candélabre."),
        ("in_progress", "agent-voirie", None),
        ("resolved", "agent-voirie", "Ampoule remplacée le 18 mai."),
        ("closed", "superviseur", None),
    ]
    for status, actor, reason in steps:
        clock.advance(hours=1)
        moved = store.transition("demo", receipt.case_id, status, actor=actor, reason=reason)
        assert moved.status == CaseStatus(status)

    view = store.get("demo", receipt.case_id)
    assert view is not None
    history = view.history
    assert [event.seq for event in history] == list(range(1, 8))
    assert history[0].kind == "created" and history[0].actor == "assistant"
    assert (history[0].from_status, history[0].to_status) == (None, "received")
    assert history[0].changes["service"] == "voirie"
    moves = [(e.from_status, e.to_status, e.actor, e.reason) for e in history[1:]]
    expected_from = ["received", "acknowledged", "in_progress", "waiting_for_resident"]
    expected_from += ["in_progress", "resolved"]
    assert moves == [
        (before, status, actor, reason)
        for before, (status, actor, reason) in zip(expected_from, steps, strict=True)
    ]
    assert [event.at for event in history] == sorted(event.at for event in history)
    assert view.updated_at == clock.now
    assert view.status_label == "Clôturée" and view.citizen_status_label == "Clôturée"


def test_invalid_transitions_are_refused_and_leave_no_trace(store: CaseStore) -> None:
    receipt = store.file(draft())
    with pytest.raises(InvalidTransitionError) as refused:
        store.transition("demo", receipt.case_id, CaseStatus.RESOLVED, actor="agent")
    assert "ne peut pas passer au statut" in refused.value.message_fr
    assert "Traitée" in refused.value.message_fr

    with pytest.raises(InvalidCaseError, match="motif"):
        store.transition("demo", receipt.case_id, "rejected", actor="agent", reason="  ")
    with pytest.raises(InvalidCaseError, match="Statut inconnu"):
        store.transition("demo", receipt.case_id, "archived", actor="agent")
    with pytest.raises(CaseNotFoundError):
        store.transition("autreville", receipt.case_id, "acknowledged", actor="agent")

    view = store.get("demo", receipt.case_id)
    assert view is not None and view.status is CaseStatus.RECEIVED
    assert len(view.history) == 1

    store.transition("demo", receipt.case_id, "rejected", actor="agent", reason="Doublon")
    for status in CaseStatus:
        with pytest.raises(InvalidTransitionError):
            store.transition("demo", receipt.case_id, status, actor="agent", reason="x")


def test_contact_details_are_dropped_without_consent(store: CaseStore, database: Database) -> None:
    contact = CaseContact(name="Jeanne Martin", email="jeanne@example.fr", phone="0612345678")
    receipt = store.file(draft(contact=contact))

    assert receipt.contact_kept is False
    assert "accusé d'enregistrement" not in receipt.message
    with database.session() as session:
        row = session.get(Case, receipt.case_id)
        assert row is not None
        assert (row.contact_name, row.contact_email, row.contact_phone) == (None, None, None)
        assert row.consent is False
    assert outbox(database) == []
    view = store.get("demo", receipt.case_id)
    assert view is not None and view.contact is None
    assert view.history[0].changes["contact"] == "dropped_without_consent"


def test_contact_details_are_kept_with_consent_and_normalised(
    store: CaseStore, database: Database
) -> None:
    contact = CaseContact("Jeanne Martin", " Jeanne@Example.FR ", "06 12 34 56 78", consent=True)
    receipt = store.file(draft(contact=contact))

    assert receipt.contact_kept
    assert "par courriel et par SMS" in receipt.message
    view = store.get("demo", receipt.case_id)
    assert view is not None
    assert view.contact == CaseContact("Jeanne Martin", "jeanne@example.fr", "+33612345678", True)
    assert view.history[0].changes["contact"] == "kept"
    assert "jeanne" not in str(view.history).lower()  # contact details stay out of the history
    # Each contact is asked first; the receipt waits for its confirmation.
    queued = {(n.kind, n.channel, n.recipient, n.status) for n in outbox(database)}
    assert queued == {
        ("contact_confirmation", "email", "jeanne@example.fr", "pending"),
        ("contact_confirmation", "sms", "+33612345678", "pending"),
        ("registration", "email", "jeanne@example.fr", "held"),
        ("registration", "sms", "+33612345678", "held"),
    }


@pytest.mark.parametrize(
    ("email", "phone"), [("pas-une-adresse", None), (None, "12 34"), (None, "+0 12")]
)
def test_malformed_contact_details_are_refused(
    store: CaseStore, email: str | None, phone: str | None
) -> None:
    with pytest.raises(InvalidCaseError, match="n'est pas valide"):
        store.file(draft(contact=CaseContact(email=email, phone=phone, consent=True)))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"service": "piscine"}, "n'existe pas"),
        ({"summary": "   "}, "vide"),
        ({"summary": "x" * 256}, "255"),
        ({"priority": "critique"}, "Priorité"),
        ({"conversation_id": "0" * 32}, "conversation"),
    ],
)
def test_drafts_that_cannot_be_filed(
    store: CaseStore, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidCaseError, match=message):
        store.file(draft(**overrides))


def test_a_disabled_service_sends_requests_to_the_reception(
    store: CaseStore, database: Database
) -> None:
    ServiceCatalogue(database).update("demo", "voirie", {"active": False})
    receipt = store.file(draft())
    assert receipt.service == "affaires_generales"
    view = store.get("demo", receipt.case_id)
    assert view is not None and view.history[0].changes["service_requested"] == "voirie"


def test_tracking_codes_are_looked_up_forgivingly(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("contact_center.gru.cases.new_tracking_code", lambda: "10A0-B1CD-0E")
    receipt = store.file(draft())
    assert receipt.tracking_code == "10A0-B1CD-0E"

    for typed in ("10A0-B1CD-0E", "10a0b1cd0e", " 10a0 b1cd 0e ", "IOAO-BlCD-OE", "10A0.B1CD.0E"):
        found = store.citizen_status("demo", typed)
        assert found is not None, typed
        assert found.tracking_code == "10A0-B1CD-0E"
    for wrong in ("10A0-B1CD-0F", "10A0-B1CD", "", "10A0-B1CD-0E-00", "UUUU-UUUU-UU", "%' OR 1=1"):
        assert store.citizen_status("demo", wrong) is None, wrong


def test_another_communes_code_finds_nothing(store: CaseStore) -> None:
    demo = store.file(draft())
    other = store.file(draft(tenant_id="autreville"))
    assert store.citizen_status("autreville", demo.tracking_code) is None
    assert store.citizen_status("demo", other.tracking_code) is None
    found = store.citizen_status("autreville", other.tracking_code)
    assert found is not None and found.service_name.endswith("d'Autreville")


def test_the_citizen_view_reveals_nothing_else(store: CaseStore, clock: Clock) -> None:
    contact = CaseContact("Jeanne Martin", "jeanne@example.fr", "0612345678", consent=True)
    receipt = store.file(draft(contact=contact))
    store.file(draft(summary="Autre demande"))
    clock.advance(days=3)
    store.transition("demo", receipt.case_id, "acknowledged", actor="agent-voirie")

    found = store.citizen_status("demo", receipt.tracking_code)
    assert found == CitizenCaseStatus(
        tracking_code=receipt.tracking_code,
        service_name="Service Voirie et espaces publics",
        status_label="Prise en charge",
        updated_on=date(2026, 5, 18),
        due_date=date(2026, 5, 22),
    )
    assert {f.name for f in fields(CitizenCaseStatus)} == {
        "tracking_code", "service_name", "status_label", "updated_on", "due_date",
    }  # fmt: skip
    shown = repr(found)
    for secret in ("Lampadaire", "Lilas", "Jeanne", "jeanne@", "612345678", "2026-00", "agent"):
        assert secret not in shown


def test_only_a_digest_of_the_tracking_code_is_stored(
    store: CaseStore, database: Database, clock: Clock
) -> None:
    receipt = store.file(draft(contact=CaseContact(email="a@b.fr", consent=True)))
    confirm_contacts(database, clock)
    store.transition("demo", receipt.case_id, "acknowledged", actor="agent")
    symbols = receipt.tracking_code.replace("-", "")
    with database.engine.connect() as connection:
        for table in ("cases", "case_events"):
            dump = str(connection.execute(text(f"SELECT * FROM {table}")).all())
            assert receipt.tracking_code not in dump and symbols not in dump
    # Only the registration receipt carries it, to the resident, until it is sent.
    carrying = [n.kind for n in outbox(database) if receipt.tracking_code in n.body]
    assert carrying == ["registration"]
    NotificationDispatcher(database, FakeNotifier()).dispatch_due()
    assert not [n.kind for n in outbox(database) if receipt.tracking_code in n.body]


def test_the_history_is_append_only(store: CaseStore, database: Database) -> None:
    receipt = store.file(draft())
    with pytest.raises(AppendOnlyError), database.session() as session:
        event = session.scalars(select(CaseEvent)).one()
        event.reason = "réécrit"
    with pytest.raises(AppendOnlyError), database.session() as session:
        session.delete(session.scalars(select(CaseEvent)).one())
    with pytest.raises(AppendOnlyError), database.session() as session:
        session.execute(update(CaseEvent).values(actor="quelqu'un"))
    with pytest.raises(AppendOnlyError), database.session() as session:
        session.execute(delete(CaseEvent))
    view = store.get("demo", receipt.case_id)
    assert view is not None and len(view.history) == 1 and view.history[0].reason is None


def test_updates_record_what_changed(store: CaseStore) -> None:
    receipt = store.file(draft())
    view = store.update(
        "demo",
        receipt.case_id,
        CaseUpdate(priority="urgent", assigned_to="agent-voirie", summary="Lampadaire éteint"),
        actor="superviseur",
        reason="Rue sans éclairage",
    )
    assert (view.priority, view.assigned_to, view.summary) == (
        "urgent",
        "agent-voirie",
        "Lampadaire éteint",
    )
    last = view.history[-1]
    assert last.kind == "updated" and last.actor == "superviseur"
    assert last.changes == {
        "priority": ["normal", "urgent"],
        "assigned_to": [None, "agent-voirie"],
        "summary": ["Lampadaire en panne", "Lampadaire éteint"],
    }
    unchanged = store.update("demo", receipt.case_id, CaseUpdate(priority="urgent"), actor="x")
    assert len(unchanged.history) == 2
    unassigned = store.update("demo", receipt.case_id, CaseUpdate(assigned_to=""), actor="x")
    assert unassigned.assigned_to is None
    with pytest.raises(InvalidCaseError):
        store.update("demo", receipt.case_id, CaseUpdate(priority="vite"), actor="x")  # type: ignore[arg-type]


def test_listing_filters_and_pages(store: CaseStore, clock: Clock) -> None:
    ids = []
    for n in range(5):
        clock.advance(minutes=1)
        service = "voirie" if n % 2 == 0 else "proprete_dechets"
        ids.append(store.file(draft(service=service, summary=f"Demande {n}")).case_id)
    store.transition("demo", ids[0], "acknowledged", actor="agent")
    store.file(draft(tenant_id="autreville"))

    page = store.list("demo", limit=2)
    assert page.total == 5 and [v.summary for v in page.items] == ["Demande 4", "Demande 3"]
    assert [v.summary for v in store.list("demo", limit=2, offset=4).items] == ["Demande 0"]
    voirie = store.list("demo", service="voirie")
    assert voirie.total == 3 and {v.service for v in voirie.items} == {"voirie"}
    acknowledged = store.list("demo", status="acknowledged")
    assert [v.id for v in acknowledged.items] == [ids[0]]
    assert store.get("autreville", ids[0]) is None


def test_erasing_the_conversation_keeps_the_case(store: CaseStore, database: Database) -> None:
    conversations = ConversationStore(database)
    conversation = conversations.create("demo")
    receipt = store.file(draft(conversation_id=conversation.id))
    assert conversations.erase(conversation_id=conversation.id) == 1
    view = store.get("demo", receipt.case_id)
    assert view is not None and view.conversation_id is None


def test_receipt_numbers_look_like_the_contract(store: CaseStore) -> None:
    receipt = store.file(draft())
    assert re.fullmatch(r"\d{4}-\d{6}", receipt.number)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}",
                        receipt.tracking_code)  # fmt: skip


def test_simultaneous_filings_get_distinct_numbers(store: CaseStore) -> None:
    # Six threads really overlap; the fixed clock keeps them in one year whenever this runs.
    with ThreadPoolExecutor(max_workers=6) as pool:
        receipts = list(pool.map(lambda n: store.file(draft(summary=f"Demande {n}")), range(12)))
    numbers = sorted(int(receipt.number.split("-")[1]) for receipt in receipts)
    assert numbers == list(range(1, 13))
    assert len({receipt.tracking_code for receipt in receipts}) == 12

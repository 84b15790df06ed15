"""Notices to residents: a real SMTP server, a Twilio stand-in, retries that lose nothing.

The SMTP server is aiosmtpd on a loopback port; SMS go through the official ``twilio`` client
to :class:`contact_center.testing.twilio_standin.TwilioStandIn`. Every sender, the fake
included, passes :class:`contact_center.testing.contracts.NotifierContract`.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr
from sqlalchemy import event, select

from contact_center.db import Database, migrate
from contact_center.gru.cases import CaseContact, CaseDraft, CaseStatus, CaseStore
from contact_center.gru.notifications import (
    ChannelNotifier,
    NotificationDispatcher,
    Notifier,
    SmtpNotifier,
    TwilioSmsNotifier,
)
from contact_center.gru.schema import Notification
from contact_center.gru.service_catalogue import ServiceCatalogue
from contact_center.services import build_notifier
from contact_center.settings import NotificationsSection, SmtpSection, TwilioSmsSection
from contact_center.testing.contracts import NotifierContract
from contact_center.testing.fakes import FakeNotifier
from contact_center.testing.twilio_standin import TwilioStandIn
from routing.service_definitions import DEMO_CATALOGUE
from tests.contact_center.gru.contact_support import confirm_contacts

# The local SMTP server asks for a login without TLS (a loopback test server, no certificate).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

FILED_AT = datetime(2026, 5, 15, 9, 0, tzinfo=UTC)  # Friday 15 May 2026, 11:00 in Paris
ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "jeton-de-test"
SMS_SENDER = "+33757000000"
CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}")


@dataclass
class Inbox:
    """aiosmtpd handler that keeps every message it accepts."""

    messages: list[Any] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:  # fmt: skip
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"mot-de-passe"
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    def parsed(self, index: int) -> email.message.EmailMessage:
        raw = self.messages[index].original_content
        return email.message_from_bytes(raw, policy=email.policy.default)


class PortZeroController(Controller):
    """aiosmtpd's controller on a port that the system picks (port 0), kept in ``port``."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = int(self.server.sockets[0].getsockname()[1])
        super()._trigger_server()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, SmtpSection]]:
    inbox = Inbox()
    controller = PortZeroController(
        inbox, hostname="127.0.0.1", port=0, authenticator=inbox.authenticate,
        auth_required=True, auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    section = SmtpSection(
        host="127.0.0.1",
        port=controller.port,
        from_address="ne-pas-repondre@val-fleuri.example",
        starttls=False,
        user="contact-center",
        password=SecretStr("mot-de-passe"),
    )
    yield inbox, section
    controller.stop()


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as stand_in:
        yield stand_in


def sms_section(stand_in: TwilioStandIn, token: str = AUTH_TOKEN) -> TwilioSmsSection:
    return TwilioSmsSection(
        account_sid=ACCOUNT_SID,
        auth_token=SecretStr(token),
        from_number=SMS_SENDER,
        base_url=stand_in.url,
    )


Delivered = Callable[[], list[tuple[str, str]]]


class TestFakeNotifier(NotifierContract):
    @pytest.fixture
    def notifier(self) -> FakeNotifier:
        return FakeNotifier()

    @pytest.fixture
    def delivered(self, notifier: FakeNotifier) -> Delivered:
        return lambda: [(message.recipient, message.body) for message in notifier.sent]

    @pytest.fixture
    def unreachable(self) -> Notifier:
        return FakeNotifier(fail_next=1)


class TestSmtpNotifier(NotifierContract):
    @pytest.fixture
    def notifier(self, smtp: tuple[Inbox, SmtpSection]) -> Notifier:
        return SmtpNotifier(smtp[1])

    @pytest.fixture
    def delivered(self, smtp: tuple[Inbox, SmtpSection]) -> Delivered:
        inbox = smtp[0]
        return lambda: [
            (envelope.rcpt_tos[0], inbox.parsed(index).get_content())
            for index, envelope in enumerate(inbox.messages)
        ]

    @pytest.fixture
    def unreachable(self, refused_port: int) -> Notifier:
        return SmtpNotifier(SmtpSection(host="127.0.0.1", port=refused_port, starttls=False))


class TestTwilioSmsNotifier(NotifierContract):
    channel = "sms"
    recipient = "+33612345678"

    @pytest.fixture
    def notifier(self, twilio: TwilioStandIn) -> Notifier:
        return TwilioSmsNotifier(sms_section(twilio))

    @pytest.fixture
    def delivered(self, twilio: TwilioStandIn) -> Delivered:
        return lambda: [(sms["to"], sms["body"]) for sms in twilio.messages]

    @pytest.fixture
    def unreachable(self, refused_port: int) -> Notifier:
        closed = TwilioSmsSection(
            account_sid=ACCOUNT_SID,
            auth_token=SecretStr(AUTH_TOKEN),
            from_number=SMS_SENDER,
            base_url=f"http://127.0.0.1:{refused_port}",
        )
        return TwilioSmsNotifier(closed)


@pytest.fixture
def database(database_url: str) -> Database:
    database = Database(database_url)
    migrate(database.engine)
    ServiceCatalogue(database).seed("demo", DEMO_CATALOGUE.values())
    return database


class Clock:
    """Filing time, then one more second at each reading: notices are ordered in time."""

    def __init__(self) -> None:
        self.now = FILED_AT

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def store(database: Database) -> CaseStore:
    return CaseStore(database, tenant_names={"demo": "Ville de Val-Fleuri"}, clock=Clock())


def file_case(store: CaseStore, database: Database, **contact: Any) -> str:
    """File a case whose contact has confirmed (its confirmation request is queued first)."""
    draft = CaseDraft(
        tenant_id="demo",
        service="voirie",
        channel="web",
        summary="Lampadaire en panne",
        description="Le lampadaire ne s'allume plus.",
        location="12 rue des Lilas",
        contact=CaseContact(consent=True, **contact),
    )
    case_id = store.file(draft).case_id
    confirm_contacts(database, lambda: FILED_AT)
    return case_id


def receipts(database: Database) -> list[Notification]:
    """The outbox without the contacts' confirmation requests."""
    return [row for row in rows(database) if row.kind != "contact_confirmation"]


def dispatcher(database: Database, notifier: Any, **settings: Any) -> NotificationDispatcher:
    values: dict[str, Any] = {"max_attempts": 3, "retry_base_s": 60, "dispatch_interval_s": 0}
    values.update(settings)
    return NotificationDispatcher(database, notifier, NotificationsSection(**values))


def rows(database: Database) -> list[Notification]:
    with database.session() as session:
        query = select(Notification).order_by(Notification.created_at)
        return list(session.scalars(query))


def test_the_receipts_reach_a_real_smtp_server(
    store: CaseStore, database: Database, smtp: tuple[Inbox, SmtpSection]
) -> None:
    inbox, section = smtp
    case_id = file_case(store, database, email="jeanne.martin@example.fr")
    sender = dispatcher(database, ChannelNotifier(email=SmtpNotifier(section)))

    assert sender.dispatch_due(now=FILED_AT + timedelta(minutes=1)).sent == 2  # and the request
    (mail,) = [inbox.parsed(i) for i in (0, 1) if "Votre demande" in inbox.parsed(i)["Subject"]]
    assert inbox.logins == ["contact-center"] * 2
    assert {m.rcpt_tos[0] for m in inbox.messages} == {"jeanne.martin@example.fr"}
    assert mail["From"] == "ne-pas-repondre@val-fleuri.example"
    assert mail["Subject"] == "Votre demande n° 2026-000001 a bien été enregistrée"
    body = mail.get_content()
    code = CODE.search(body)
    assert code is not None and f"Votre code de suivi : {code.group()}" in body
    stored = receipts(database)[0].body  # the outbox keeps the text, not the code
    assert code.group() not in stored and "Votre code de suivi : XXXX-XXXX-XX" in stored
    assert "code des relations entre le public et l'administration" in body
    assert "vendredi 22 mai 2026" in body  # five working days after Friday 15 May

    store.transition("demo", case_id, CaseStatus.ACKNOWLEDGED, actor="agent-voirie")
    assert sender.dispatch_due(now=FILED_AT + timedelta(minutes=1)).sent == 1
    receipt = inbox.parsed(2)
    assert receipt["Subject"] == "Accusé de réception de votre demande n° 2026-000001"
    text = receipt.get_content()
    assert "Nous accusons réception de votre demande n° 2026-000001" in text
    assert "reçue le 15 mai 2026" in text
    assert "Service Voirie et espaces publics" in text
    assert "14 rue des Artisans" in text and "01 99 00 10 05" in text
    assert "L. 112-3" in text
    assert [(r.kind, r.status, r.attempts) for r in receipts(database)] == [
        ("registration", "sent", 1),
        ("acknowledgement", "sent", 1),
    ]


def test_sms_go_through_the_twilio_api(
    store: CaseStore, database: Database, twilio: TwilioStandIn
) -> None:
    file_case(store, database, phone="06 12 34 56 78")
    sender = dispatcher(database, ChannelNotifier(sms=TwilioSmsNotifier(sms_section(twilio))))

    assert sender.dispatch_due(now=FILED_AT + timedelta(minutes=1)).sent == 2  # and the request
    (sms,) = [sms for sms in twilio.messages if "enregistrée" in sms["body"]]
    assert (sms["to"], sms["from"]) == ("+33612345678", SMS_SENDER)
    assert sms["body"].startswith("Ville de Val-Fleuri : demande n° 2026-000001 enregistrée")
    assert "Code de suivi : " in sms["body"] and "22/05/2026" in sms["body"]


def test_a_failed_send_is_retried_and_the_status_change_stays(
    store: CaseStore, database: Database, twilio: TwilioStandIn
) -> None:
    case_id = file_case(store, database, phone="0612345678")
    sender = dispatcher(database, ChannelNotifier(sms=TwilioSmsNotifier(sms_section(twilio))))
    assert sender.dispatch_due(now=FILED_AT + timedelta(minutes=1)).sent == 2  # and the request

    twilio.fail_first = 1
    store.transition("demo", case_id, "acknowledged", actor="agent-voirie")
    report = sender.dispatch_due(now=FILED_AT + timedelta(minutes=1))
    assert (report.sent, report.retried, report.failed) == (0, 1, 0)

    view = store.get("demo", case_id)
    assert view is not None and view.status is CaseStatus.ACKNOWLEDGED
    assert view.history[-1].to_status == "acknowledged"
    pending = rows(database)[-1]
    assert (pending.kind, pending.status, pending.attempts) == ("acknowledgement", "pending", 1)
    assert "500" in (pending.last_error or "")

    assert sender.dispatch_due(now=FILED_AT + timedelta(seconds=90)).sent == 0  # not due yet
    assert sender.dispatch_due(now=FILED_AT + timedelta(seconds=121)).sent == 1
    assert [call[0] for call in twilio.calls] == [201, 201, 500, 201]
    assert "prise en charge" in twilio.messages[-1]["body"]
    assert rows(database)[-1].status == "sent"


def test_an_unreachable_server_is_retried_then_given_up(
    store: CaseStore, database: Database, refused_port: int
) -> None:
    case_id = file_case(store, database, email="jeanne@example.fr")
    section = SmtpSection(host="127.0.0.1", port=refused_port, starttls=False, timeout_s=2)
    sender = dispatcher(database, ChannelNotifier(email=SmtpNotifier(section)))

    now = FILED_AT + timedelta(minutes=1)
    outcomes = []
    for _ in range(3):
        report = sender.dispatch_due(now=now)
        outcomes.append((report.retried, report.failed))
        now += timedelta(hours=2)
    assert outcomes == [(2, 0), (2, 0), (0, 2)]  # the receipt and the confirmation request
    (row,) = receipts(database)
    assert (row.status, row.attempts) == ("failed", 3)
    assert "ConnectionRefusedError" in (row.last_error or "")
    assert sender.dispatch_due(now=now).failed == 0  # failed notices stay failed, kept
    view = store.get("demo", case_id)
    assert view is not None and view.status is CaseStatus.RECEIVED


def test_permanent_failures_are_not_retried(
    store: CaseStore, database: Database, twilio: TwilioStandIn
) -> None:
    file_case(store, database, email="jeanne@example.fr", phone="0612345678")
    wrong_token = TwilioSmsNotifier(sms_section(twilio, token="pas-le-bon"))
    sender = dispatcher(database, ChannelNotifier(email=None, sms=wrong_token))

    report = sender.dispatch_due(now=FILED_AT + timedelta(minutes=1))
    assert (report.sent, report.retried, report.failed) == (0, 0, 4)  # receipts and requests
    errors = {row.channel: row.last_error for row in rows(database)}
    assert errors["email"] == "no sender configured for email"
    assert "401" in (errors["sms"] or "")


def test_a_status_change_and_its_notice_commit_together(
    store: CaseStore, database: Database
) -> None:
    case_id = file_case(store, database, email="jeanne@example.fr")

    def outbox_down(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS"):
            raise RuntimeError("the outbox table refuses the write")

    event.listen(database.engine, "before_cursor_execute", outbox_down)
    try:
        with pytest.raises(RuntimeError, match="outbox"):
            store.transition("demo", case_id, "acknowledged", actor="agent")
    finally:
        event.remove(database.engine, "before_cursor_execute", outbox_down)

    view = store.get("demo", case_id)
    assert view is not None and view.status is CaseStatus.RECEIVED
    assert [entry.kind for entry in view.history] == ["created", "contact_confirmed"]
    assert [row.kind for row in receipts(database)] == ["registration"]
    # Once the outbox takes writes again, the same change goes through with its notice.
    assert store.transition("demo", case_id, "acknowledged", actor="agent").status is (
        CaseStatus.ACKNOWLEDGED
    )
    assert [row.kind for row in receipts(database)] == ["registration", "acknowledgement"]


def test_the_retry_delay_doubles_up_to_a_ceiling(database: Database) -> None:
    sender = dispatcher(database, FakeNotifier(), retry_base_s=60, retry_max_s=300)
    delays = [sender.retry_delay(n).total_seconds() for n in range(1, 6)]
    assert delays == [60, 120, 240, 300, 300]


def test_the_background_dispatcher_sends_on_its_own(store: CaseStore, database: Database) -> None:
    fake = FakeNotifier(fail_next=1)
    sender = dispatcher(database, fake, dispatch_interval_s=0.05, retry_base_s=0.01)
    file_case(store, database, email="jeanne@example.fr")
    sender.start()
    try:
        deadline = time.monotonic() + 20
        while len(fake.sent) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sender.close()
    assert [message.recipient for message in fake.sent] == ["jeanne@example.fr"] * 2
    assert sorted(row.attempts for row in rows(database)) == [1, 2]


def test_the_notifier_follows_the_settings(twilio: TwilioStandIn) -> None:
    assert isinstance(build_notifier(NotificationsSection(backend="fake")), FakeNotifier)
    nothing = build_notifier(NotificationsSection())
    assert isinstance(nothing, ChannelNotifier) and nothing.email is None and nothing.sms is None
    both = build_notifier(
        NotificationsSection(smtp=SmtpSection(host="smtp.example"), twilio=sms_section(twilio))
    )
    assert isinstance(both, ChannelNotifier)
    assert isinstance(both.email, SmtpNotifier) and isinstance(both.sms, TwilioSmsNotifier)

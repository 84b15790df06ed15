"""Notices to residents: the outbox, the senders (SMTP, Twilio SMS) and the dispatcher.

A status change and the notice that announces it are written in the same database transaction
(:func:`enqueue` takes the caller's session): either both are stored or neither is. Sending
happens later, outside that transaction, in :meth:`NotificationDispatcher.dispatch_due`, so a
failing mail server or SMS gateway can delay a notice but never lose or undo a status change.
Failures are retried with a doubling delay, up to ``max_attempts``; then the notice is marked
``failed`` (agents see it; nothing is deleted). A sent or failed notice keeps its text, with
any tracking code and confirmation link masked. A notice written ``held`` (its contact has not
confirmed, or has had its share of messages today: :mod:`contact_center.gru.contact_confirmation`)
is never sent; it keeps why in ``held_reason``.

Delivery is at least once: a row is claimed for a few minutes before it is sent, and a process
that dies after sending but before recording it sends it again once the claim expires.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from contact_center.db import Database, utcnow
from contact_center.errors import NotificationError
from contact_center.gru.contact_confirmation import UNCONFIRMED, masked
from contact_center.gru.schema import Notification
from contact_center.settings import NotificationsSection, SmtpSection, TwilioSmsSection

log = logging.getLogger(__name__)

Channel = Literal["email", "sms"]

#: How long a claimed notice is reserved for the dispatcher that claimed it.
CLAIM_S = 300.0


@dataclass(frozen=True)
class OutgoingMessage:
    """One e-mail or SMS to a resident."""

    id: str
    tenant_id: str
    channel: Channel
    recipient: str
    subject: str | None
    body: str


class Notifier(Protocol):
    """Sends one message, or raises :class:`~contact_center.errors.NotificationError`."""

    def send(self, message: OutgoingMessage) -> None:
        """Deliver ``message`` to its recipient now."""


class SmtpNotifier:
    """E-mails through an SMTP server (STARTTLS and login when configured)."""

    def __init__(self, settings: SmtpSection) -> None:
        if not settings.host:
            raise ValueError("SmtpNotifier needs a host")
        self._settings = settings

    def send(self, message: OutgoingMessage) -> None:
        settings = self._settings
        email = EmailMessage()
        email["From"] = settings.from_address
        email["To"] = message.recipient
        email["Subject"] = message.subject or ""
        email["Date"] = formatdate(localtime=True)
        email["Message-ID"] = make_msgid(domain=settings.from_address.rpartition("@")[2] or None)
        email.set_content(message.body)
        try:
            with smtplib.SMTP(
                str(settings.host), settings.port, timeout=settings.timeout_s
            ) as smtp:
                if settings.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.user:
                    password = settings.password.get_secret_value() if settings.password else ""
                    smtp.login(settings.user, password)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise NotificationError("smtp: recipient refused", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise NotificationError(f"smtp: {type(exc).__name__}: {exc}") from exc


class TwilioSmsNotifier:
    """SMS through Twilio's REST API with the official ``twilio`` client.

    ``base_url`` replaces ``https://api.twilio.com`` on the client's ``api`` domain (the one
    that holds the Messages resource), through the domain's public ``base_url`` attribute: the
    same client then talks to a stand-in such as
    :class:`contact_center.testing.twilio_standin.TwilioStandIn`, or to a gateway with Twilio's API.
    """

    def __init__(self, settings: TwilioSmsSection) -> None:
        if not (settings.account_sid and settings.auth_token and settings.from_number):
            raise ValueError("TwilioSmsNotifier needs account_sid, auth_token and from_number")
        self._settings = settings
        self._client: Any = None
        self._lock = threading.Lock()

    def _twilio(self) -> Any:
        with self._lock:
            if self._client is None:
                from twilio.http.http_client import TwilioHttpClient
                from twilio.rest import Client

                settings = self._settings
                token = settings.auth_token.get_secret_value() if settings.auth_token else ""
                client = Client(
                    settings.account_sid,
                    token,
                    http_client=TwilioHttpClient(timeout=settings.timeout_s),
                )
                client.api.base_url = settings.base_url.rstrip("/")
                self._client = client
            return self._client

    def send(self, message: OutgoingMessage) -> None:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            self._twilio().messages.create(
                to=message.recipient, from_=self._settings.from_number, body=message.body
            )
        except TwilioRestException as exc:
            permanent = 400 <= exc.status < 500 and exc.status != 429
            raise NotificationError(
                f"twilio: HTTP {exc.status} code {exc.code}", permanent=permanent
            ) from exc
        except (TwilioException, OSError) as exc:  # requests' errors are OSErrors
            raise NotificationError(f"twilio: {type(exc).__name__}") from exc


@dataclass
class ChannelNotifier:
    """Hands each message to the sender of its channel; a missing sender fails permanently."""

    email: Notifier | None = None
    sms: Notifier | None = None

    def send(self, message: OutgoingMessage) -> None:
        sender = self.email if message.channel == "email" else self.sms
        if sender is None:
            raise NotificationError(f"no sender configured for {message.channel}", permanent=True)
        sender.send(message)


def enqueue(
    session: Session,
    *,
    tenant_id: str,
    case_id: str | None,
    kind: str,
    channel: str,
    recipient: str,
    subject: str | None,
    body: str,
    now: datetime,
    held_reason: str | None = None,
) -> Notification:
    """Add a notice to the outbox in the caller's transaction (sent by the dispatcher).

    With ``held_reason`` it is recorded as ``held`` and not sent; masked at once, unless it
    waits for its contact's confirmation (``contact_unconfirmed``: it may be released).
    """
    row = Notification(
        tenant_id=tenant_id,
        case_id=case_id,
        kind=kind,
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=masked(body) if held_reason and held_reason != UNCONFIRMED else body,
        status="held" if held_reason else "pending",
        held_reason=held_reason,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    return row


@dataclass
class DispatchReport:
    """What one pass of the dispatcher did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


@dataclass
class NotificationDispatcher:
    """Sends the notices that are due, records the outcome, retries with backoff.

    Call :meth:`dispatch_due` from anywhere (several replicas may: rows are claimed with
    ``SKIP LOCKED`` on PostgreSQL), or :meth:`start` a background thread that does it every
    ``dispatch_interval_s`` seconds.
    """

    database: Database
    notifier: Notifier
    settings: NotificationsSection = field(default_factory=NotificationsSection)
    clock: Callable[[], datetime] = utcnow
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def dispatch_due(self, *, now: datetime | None = None) -> DispatchReport:
        """Send every notice due at ``now`` (default: the clock), one batch."""
        now = now or self.clock()
        self._give_up_unconfirmed(now)
        report = DispatchReport()
        for message, attempts in self._claim(now):
            try:
                self.notifier.send(message)
            except Exception as exc:  # noqa: BLE001 - any sender failure is retried or recorded
                permanent = isinstance(exc, NotificationError) and exc.permanent
                outcome = self._record_failure(message.id, attempts, exc, permanent, now)
                setattr(report, outcome, getattr(report, outcome) + 1)
                log.warning(
                    "notification not sent id=%s channel=%s attempts=%s outcome=%s error=%s",
                    message.id, message.channel, attempts, outcome, type(exc).__name__,
                )  # fmt: skip
            else:
                self._record_sent(message.id)
                report.sent += 1
        return report

    def retry_delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failure: base, 2 x base, 4 x base... capped."""
        seconds = self.settings.retry_base_s * 2 ** max(0, attempts - 1)
        return timedelta(seconds=min(seconds, self.settings.retry_max_s))

    def _give_up_unconfirmed(self, now: datetime) -> None:
        """Mask the notices whose contact let its confirmation link expire: never sent."""
        expired = now - timedelta(hours=self.settings.confirmation_ttl_hours)
        with self.database.session() as session:
            rows = session.scalars(
                select(Notification)
                .where(
                    Notification.status == "held",
                    Notification.held_reason == UNCONFIRMED,
                    Notification.created_at <= expired,
                )
                .limit(self.settings.batch_size)
            )
            for row in rows:
                row.held_reason, row.body = "contact_expired", masked(row.body)

    def _claim(self, now: datetime) -> list[tuple[OutgoingMessage, int]]:
        with self.database.session() as session:
            rows = session.scalars(
                select(Notification)
                .where(Notification.status == "pending", Notification.next_attempt_at <= now)
                .order_by(Notification.next_attempt_at)
                .limit(self.settings.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            claimed = []
            for row in rows:
                row.attempts += 1
                row.next_attempt_at = now + timedelta(seconds=CLAIM_S)
                claimed.append((_message(row), row.attempts))
            return claimed

    def _record_sent(self, notification_id: str) -> None:
        with self.database.session() as session:
            row = session.get(Notification, notification_id)
            if row is not None:
                row.status = "sent"
                row.sent_at = self.clock()
                row.last_error = None
                row.body = masked(row.body)

    def _record_failure(
        self, notification_id: str, attempts: int, exc: Exception, permanent: bool, now: datetime
    ) -> str:
        """Mark the row failed or due again later; returns ``failed`` or ``retried``."""
        give_up = permanent or attempts >= self.settings.max_attempts
        with self.database.session() as session:
            row = session.get(Notification, notification_id)
            if row is not None:
                row.last_error = str(exc)[:1000] or type(exc).__name__
                if give_up:
                    row.status = "failed"
                    row.body = masked(row.body)
                else:
                    row.next_attempt_at = now + self.retry_delay(attempts)
        return "failed" if give_up else "retried"

    def start(self) -> None:
        """Dispatch in a daemon thread every ``dispatch_interval_s`` (0: do nothing)."""
        if self.settings.dispatch_interval_s <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="notifications", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.dispatch_due()
            except Exception:  # noqa: BLE001 - the database may be briefly unreachable
                log.exception("notification dispatch failed")
            self._stop.wait(self.settings.dispatch_interval_s)

    def close(self) -> None:
        """Stop the background thread (the current pass finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None


def _message(row: Notification) -> OutgoingMessage:
    channel: Channel = "sms" if row.channel == "sms" else "email"
    return OutgoingMessage(row.id, row.tenant_id, channel, row.recipient, row.subject, row.body)

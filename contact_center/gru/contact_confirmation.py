"""Contacts given for a case confirm before they get anything but one short message.

**The rule.** The e-mail address or phone number left for a case may be someone else's
(« au nom de mon voisin… »), and nothing here proves who owns a contact: the assistant (chat,
browser voice, phone) notes what it is told, an agent at the counter or on the phone types what
they hear, and there is no public form. So every contact kept on a case of the built-in store
is *unconfirmed* when it is filed, whoever entered it:

* it gets one confirmation request (:func:`contact_center.gru.notices.confirmation_notice`):
  the commune, that a request was filed giving this contact, never what the request says, and
  two links, ``/contact/confirmer/{token}`` and ``/contact/refuser/{token}`` (there is no
  inbound SMS route, so an SMS carries the links too);
* every other notice of that case to that contact is written to the outbox as ``held``
  (``held_reason="contact_unconfirmed"``); once it confirms, those held notices (the
  registration receipt first) are released to the dispatcher, within the per-contact limit,
  and the next ones go out as usual; unconfirmed past the link's life, they are given up
  (``contact_expired``) and masked by the dispatcher;
* a refusal erases that contact from the case (the case stays, its history says so), holds
  whatever was still waiting for it, and keeps a keyed digest of it: a later case of the same
  commune giving that contact drops it at filing (``refused_earlier``) and sends nothing;
* tokens are 256 random bits, stored as a SHA-256 digest, single use (confirm or refuse),
  and expire after ``confirmation_ttl_hours``; the outbox masks the links once a request is
  sent, as it masks tracking codes.

Cases filed before this rule (no confirmation row for a contact) keep their notices.

On top of it, a **per-contact limit** holds every notice, confirmation requests included,
beyond ``max_per_contact_per_day`` messages queued to one recipient in 24 hours
(``held_reason="rate_limited"``): recorded, never dropped silently.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contact_center.db import Database, aware, utcnow
from contact_center.gru.case_domain import NewEvent
from contact_center.gru.notices import ConfirmationRequest, Notice, confirmation_notice
from contact_center.gru.schema import (
    Case,
    ContactConfirmation,
    Notification,
    append_event,
)
from contact_center.gru.tracking_codes import mask_tracking_codes
from contact_center.gru.working_days import paris_date
from contact_center.settings import DEFAULT_SECRET

#: Notices that a contact gets before it confirms (one per contact and case).
CONFIRMATION_KIND = "contact_confirmation"
#: Outbox rows that do not count towards the per-contact limit (not sent).
_NOT_SENT = "held"
#: Why a notice waits for its contact's confirmation (released when it confirms).
UNCONFIRMED = "contact_unconfirmed"
_LINK = re.compile(r"(/contact/(?:confirmer|refuser)/)[A-Za-z0-9_-]+")
_FIELDS = {"email": "contact_email", "sms": "contact_phone"}

Outcome = Literal["valid", "confirmed", "refused", "unknown", "expired", "used"]


@dataclass(frozen=True)
class ContactPolicy:
    """Where the links point, the key of refused contacts' digests, the limits."""

    public_url: str = "http://127.0.0.1:8000"
    secret: str = DEFAULT_SECRET
    max_per_contact_per_day: int = 5
    token_ttl: timedelta = timedelta(days=7)

    def recipient_digest(self, tenant_id: str, recipient: str) -> str:
        """A keyed digest of a contact (a phone number is too short to hash without a key)."""
        message = f"{tenant_id}\x1f{recipient}".encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class TokenCheck:
    """What a link leads to: its outcome, and the commune and channel when it is known."""

    outcome: Outcome
    tenant_id: str | None = None
    channel: str | None = None


def token_digest(token: str) -> str:
    """The stored digest of a confirmation token."""
    return hashlib.sha256(token.encode()).hexdigest()


def masked(text: str) -> str:
    """What the outbox keeps of a text once sent, failed or held: no tracking code, no token."""
    return _LINK.sub(r"\1…", mask_tracking_codes(text))


def open_confirmations(
    session: Session,
    case: Case,
    policy: ContactPolicy,
    request: Callable[[str], ConfirmationRequest],
    now: datetime,
) -> tuple[list[Notice], list[str]]:
    """Start the confirmation of each contact of a new case.

    ``request(token)`` words the request for one token. Returns the confirmation notices to
    queue and the channels dropped because their contact refused an earlier case.
    """
    notices: list[Notice] = []
    dropped: list[str] = []
    for channel, column in _FIELDS.items():
        recipient = getattr(case, column)
        if not recipient:
            continue
        digest = policy.recipient_digest(case.tenant_id, recipient)
        if _refused_before(session, case.tenant_id, digest):
            _erase(case, channel)
            dropped.append(channel)
            continue
        token = secrets.token_urlsafe(32)
        session.add(
            ContactConfirmation(
                tenant_id=case.tenant_id,
                case_id=case.id,
                channel=channel,
                recipient_digest=digest,
                token_hash=token_digest(token),
                status="pending",
                created_at=now,
                expires_at=now + policy.token_ttl,
            )
        )
        notices.append(confirmation_notice(request(token), channel, recipient))
    session.flush()
    return notices, dropped


def hold_reason(
    session: Session, case: Case, notice: Notice, policy: ContactPolicy, now: datetime
) -> str | None:
    """Why ``notice`` must be held rather than sent, or None to send it."""
    if notice.kind != CONFIRMATION_KIND:
        statuses = set(
            session.scalars(
                select(ContactConfirmation.status).where(
                    ContactConfirmation.case_id == case.id,
                    ContactConfirmation.channel == notice.channel,
                )
            )
        )
        if statuses and "confirmed" not in statuses:
            return UNCONFIRMED
    return "rate_limited" if _over_limit(session, notice.recipient, policy, now) else None


def _over_limit(session: Session, recipient: str, policy: ContactPolicy, now: datetime) -> bool:
    """True when ``recipient`` has had its share of messages in the last 24 hours."""
    recent = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.recipient == recipient,
            Notification.status != _NOT_SENT,
            Notification.created_at > now - timedelta(days=1),
        )
    )
    return (recent or 0) >= policy.max_per_contact_per_day


def confirmation_request(
    case: Case, tenant_name: str, via_assistant: bool, policy: ContactPolicy, now: datetime
) -> Callable[[str], ConfirmationRequest]:
    """How :func:`open_confirmations` words the request for one token."""
    base = policy.public_url.rstrip("/")

    def word(token: str) -> ConfirmationRequest:
        return ConfirmationRequest(
            tenant_name=tenant_name,
            number=case.number,
            via_assistant=via_assistant,
            confirm_url=f"{base}/contact/confirmer/{token}",
            refuse_url=f"{base}/contact/refuser/{token}",
            valid_until=paris_date(now + policy.token_ttl),
        )

    return word


class ContactConfirmations:
    """The answers to confirmation requests, from the public pages.

    Args:
        database: Where cases, confirmations and the outbox live.
        policy: The per-contact limit that released notices respect.
        clock: Current UTC time (tests pass a settable one).
    """

    def __init__(
        self,
        database: Database,
        *,
        policy: ContactPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = database
        self._policy = policy or ContactPolicy()
        self._clock = clock

    def check(self, token: str) -> TokenCheck:
        """What ``token`` leads to, without using it (``valid`` when it may be used)."""
        with self._db.session() as session:
            row, outcome = self._find(session, token)
            return TokenCheck(outcome, *((row.tenant_id, row.channel) if row else (None, None)))

    def confirm(self, token: str) -> TokenCheck:
        """The contact confirms: the case's next notices to it are sent."""
        return self._decide(token, "confirmed")

    def refuse(self, token: str) -> TokenCheck:
        """The contact refuses: it is erased from the case and never written to again."""
        return self._decide(token, "refused")

    def _decide(self, token: str, answer: Literal["confirmed", "refused"]) -> TokenCheck:
        with self._db.session() as session:
            row, outcome = self._find(session, token, lock=True)
            if row is None or outcome != "valid":
                return TokenCheck(outcome, *((row.tenant_id, row.channel) if row else (None, None)))
            now = self._clock()
            row.status, row.decided_at = answer, now
            case = session.get(Case, row.case_id, with_for_update=True)
            if case is not None:
                if answer == "refused":
                    _forget(session, case, row.channel)
                else:
                    self._release(session, case, row.channel, now)
                kind = "contact_confirmed" if answer == "confirmed" else "contact_refused"
                event = NewEvent(kind, "contact", changes={"channel": row.channel})
                append_event(session, case, event, now)
            return TokenCheck(answer, row.tenant_id, row.channel)

    def _release(self, session: Session, case: Case, channel: str, now: datetime) -> None:
        """Send what waited for this confirmation, oldest first, within the daily limit."""
        recipient = getattr(case, _FIELDS[channel])
        waiting = session.scalars(
            select(Notification)
            .where(
                Notification.case_id == case.id,
                Notification.recipient == recipient,
                Notification.status == _NOT_SENT,
                Notification.held_reason == UNCONFIRMED,
            )
            .order_by(Notification.created_at)
        )
        for row in waiting:
            if _over_limit(session, recipient, self._policy, now):
                row.held_reason, row.body = "rate_limited", masked(row.body)
            else:
                row.status, row.held_reason, row.next_attempt_at = "pending", None, now
            session.flush()

    def _find(
        self, session: Session, token: str, *, lock: bool = False
    ) -> tuple[ContactConfirmation | None, Outcome]:
        query = select(ContactConfirmation).where(
            ContactConfirmation.token_hash == token_digest(token)
        )
        row = session.scalar(query.with_for_update() if lock else query)
        if row is None:
            return None, "unknown"
        if row.status != "pending":
            return row, "used"
        if aware(row.expires_at) <= self._clock():
            return row, "expired"
        return row, "valid"


def _refused_before(session: Session, tenant_id: str, digest: str) -> bool:
    return (
        session.scalar(
            select(ContactConfirmation.id)
            .where(
                ContactConfirmation.tenant_id == tenant_id,
                ContactConfirmation.recipient_digest == digest,
                ContactConfirmation.status == "refused",
            )
            .limit(1)
        )
        is not None
    )


def _erase(case: Case, channel: str) -> None:
    """Take the contact of ``channel`` off the case; with none left, the name and consent too."""
    setattr(case, _FIELDS[channel], None)
    if not (case.contact_email or case.contact_phone):
        case.contact_name = None
        case.consent = False


def _forget(session: Session, case: Case, channel: str) -> None:
    """Erase a refused contact from the case and from its notices still waiting or held."""
    recipient = getattr(case, _FIELDS[channel])
    _erase(case, channel)
    if not recipient:
        return
    rows = session.scalars(
        select(Notification).where(
            Notification.case_id == case.id, Notification.recipient == recipient
        )
    )
    for row in rows:
        if row.status == "pending" or row.held_reason == UNCONFIRMED:
            row.status, row.held_reason = _NOT_SENT, "contact_refused"
            row.body = masked(row.body)
        row.recipient = "(effacé)"

"""The cases domain: statuses and their life cycle, drafts, receipts and views, validation.

Plain values only; the store is :class:`contact_center.gru.cases.CaseStore`, which re-exports
these names (``from contact_center.gru.cases import CaseDraft`` is the usual import).

Life cycle: :class:`CaseStatus` with the allowed moves in :data:`TRANSITIONS` (the French labels
residents and agents see are on the enum). Contact details are kept only with the resident's
consent (:func:`kept_contact`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal, get_args

from contact_center.db import aware
from contact_center.errors import InvalidCaseError, InvalidTransitionError
from contact_center.gru.schema import Case, CaseEvent
from routing.service_definitions import SERVICE_CODES


class CaseStatus(StrEnum):
    """Where a case stands; residents and agents each see their own French label."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING_FOR_RESIDENT = "waiting_for_resident"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"

    @property
    def citizen_label(self) -> str:
        """What the resident reads (« En cours de traitement »)."""
        return _CITIZEN_LABELS[self]

    @property
    def internal_label(self) -> str:
        """What agents read in the console."""
        return _INTERNAL_LABELS[self]

    def can_become(self, other: CaseStatus) -> bool:
        """True when the life cycle allows moving from this status to ``other``."""
        return other in TRANSITIONS[self]


_CITIZEN_LABELS = {
    CaseStatus.RECEIVED: "Reçue",
    CaseStatus.ACKNOWLEDGED: "Prise en charge",
    CaseStatus.IN_PROGRESS: "En cours de traitement",
    CaseStatus.WAITING_FOR_RESIDENT: "En attente de votre réponse",
    CaseStatus.RESOLVED: "Traitée",
    CaseStatus.CLOSED: "Clôturée",
    CaseStatus.REJECTED: "Classée sans suite",
}
_INTERNAL_LABELS = {
    CaseStatus.RECEIVED: "Nouvelle, à prendre en charge",
    CaseStatus.ACKNOWLEDGED: "Prise en charge (accusé de réception envoyé)",
    CaseStatus.IN_PROGRESS: "En cours de traitement",
    CaseStatus.WAITING_FOR_RESIDENT: "En attente de l'usager",
    CaseStatus.RESOLVED: "Traitée, réponse apportée",
    CaseStatus.CLOSED: "Clôturée",
    CaseStatus.REJECTED: "Classée sans suite",
}

#: Allowed status changes. ``closed`` and ``rejected`` are final; a resolved case may be
#: reopened when the resident says the answer does not settle it.
TRANSITIONS: Mapping[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.RECEIVED: frozenset({CaseStatus.ACKNOWLEDGED, CaseStatus.REJECTED}),
    CaseStatus.ACKNOWLEDGED: frozenset(
        {
            CaseStatus.IN_PROGRESS,
            CaseStatus.WAITING_FOR_RESIDENT,
            CaseStatus.RESOLVED,
            CaseStatus.REJECTED,
        }
    ),
    CaseStatus.IN_PROGRESS: frozenset(
        {CaseStatus.WAITING_FOR_RESIDENT, CaseStatus.RESOLVED, CaseStatus.REJECTED}
    ),
    CaseStatus.WAITING_FOR_RESIDENT: frozenset(
        {CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    CaseStatus.RESOLVED: frozenset({CaseStatus.CLOSED, CaseStatus.IN_PROGRESS}),
    CaseStatus.CLOSED: frozenset(),
    CaseStatus.REJECTED: frozenset(),
}

Priority = Literal["low", "normal", "high", "urgent"]
PRIORITIES: tuple[str, ...] = get_args(Priority)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_NOISE = re.compile(r"[\s.\-()]")


@dataclass(frozen=True)
class CaseContact:
    """How to reach the resident; kept only when ``consent`` is True."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    consent: bool = False

    @property
    def empty(self) -> bool:
        """True when there is nothing to reach the resident with."""
        return not (self.name or self.email or self.phone)


@dataclass(frozen=True)
class CaseDraft:
    """A request to file, from the assistant, an agent or another channel."""

    tenant_id: str
    service: str
    channel: str
    summary: str
    description: str
    location: str | None = None
    conversation_id: str | None = None
    contact: CaseContact | None = None
    priority: Priority = "normal"
    actor: str = "assistant"


@dataclass(frozen=True)
class CaseReceipt:
    """What filing returns: the resident is given ``number``, ``tracking_code`` and ``message``.

    ``tracking_code`` is only ever available here and in the registration notice.
    """

    case_id: str
    number: str
    tracking_code: str
    service: str
    status: CaseStatus
    status_label: str
    due_date: date
    service_name: str = ""
    contact_kept: bool = False
    message: str = ""


@dataclass(frozen=True)
class CaseEventView:
    """One entry of a case's history."""

    seq: int
    kind: str
    actor: str
    at: datetime
    from_status: str | None
    to_status: str | None
    changes: dict[str, Any]
    reason: str | None


@dataclass(frozen=True)
class CaseView:
    """A case as agents see it (with its history when asked)."""

    id: str
    tenant_id: str
    number: str
    service: str
    service_name: str
    channel: str
    summary: str
    description: str
    location: str | None
    conversation_id: str | None
    contact: CaseContact | None
    priority: str
    status: CaseStatus
    status_label: str
    citizen_status_label: str
    assigned_to: str | None
    due_date: date
    created_at: datetime
    updated_at: datetime
    history: tuple[CaseEventView, ...] = ()


@dataclass(frozen=True)
class CitizenCaseStatus:
    """All a tracking code reveals: nothing about the request itself or the resident."""

    tracking_code: str
    service_name: str
    status_label: str
    updated_on: date
    due_date: date


@dataclass(frozen=True)
class CaseUpdate:
    """Fields agents may change besides the status (None: unchanged; ``""`` unassigns)."""

    priority: Priority | None = None
    assigned_to: str | None = None
    summary: str | None = None


@dataclass(frozen=True)
class CasePage:
    """One page of a commune's cases, most recent first."""

    items: list[CaseView]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class NewEvent:
    """An event to append (the store numbers and stores it)."""

    kind: str
    actor: str
    from_status: str | None = None
    to_status: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None


def validate_draft(draft: CaseDraft) -> None:
    """Refuse a draft that cannot be filed, with a French reason.

    Raises:
        InvalidCaseError: unknown service code, empty summary, unknown priority...
    """
    if draft.service not in SERVICE_CODES:
        raise InvalidCaseError(f"Le service « {draft.service} » n'existe pas.")
    if not draft.summary.strip():
        raise InvalidCaseError("L'objet de la demande est vide.")
    if len(draft.summary) > 255:
        raise InvalidCaseError("L'objet de la demande dépasse 255 caractères.")
    if len(draft.description) > 10_000:
        raise InvalidCaseError("La description dépasse 10 000 caractères.")
    if draft.priority not in PRIORITIES:
        raise InvalidCaseError(f"Priorité inconnue : « {draft.priority} ».")
    if not draft.channel or len(draft.channel) > 16:
        raise InvalidCaseError("Le canal de la demande est invalide.")


def kept_contact(contact: CaseContact | None) -> CaseContact | None:
    """The contact details to store: normalised with consent, None without.

    Raises:
        InvalidCaseError: the resident consented but the e-mail or phone is malformed.
    """
    if contact is None or not contact.consent or contact.empty:
        return None
    email = contact.email.strip().lower() if contact.email and contact.email.strip() else None
    if email and not _EMAIL.match(email):
        raise InvalidCaseError("L'adresse électronique n'est pas valide.")
    phone = normalise_phone(contact.phone) if contact.phone and contact.phone.strip() else None
    name = contact.name.strip()[:255] if contact.name and contact.name.strip() else None
    return CaseContact(name=name, email=email, phone=phone, consent=True)


def normalise_phone(text: str) -> str:
    """A phone number in E.164 (``06 12 34 56 78`` -> ``+33612345678``).

    Raises:
        InvalidCaseError: not a French ten-digit number nor an international one.
    """
    digits = _PHONE_NOISE.sub("", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if re.fullmatch(r"0[1-9]\d{8}", digits):
        return "+33" + digits[1:]
    if re.fullmatch(r"\+[1-9]\d{7,14}", digits):
        return digits
    raise InvalidCaseError("Le numéro de téléphone n'est pas valide.")


def check_transition(current: CaseStatus, target: CaseStatus) -> None:
    """Raise :class:`InvalidTransitionError` (French message) when the move is not allowed."""
    if not current.can_become(target):
        raise InvalidTransitionError(current.internal_label, target.internal_label)


def event_view(row: CaseEvent) -> CaseEventView:
    """The plain value of a stored event."""
    return CaseEventView(
        seq=row.seq,
        kind=row.kind,
        actor=row.actor,
        at=aware(row.at),
        from_status=row.from_status,
        to_status=row.to_status,
        changes=dict(row.changes or {}),
        reason=row.reason,
    )


def case_view(row: Case, service_name: str, history: list[CaseEvent] | None = None) -> CaseView:
    """The agents' view of a stored case."""
    status = CaseStatus(row.status)
    contact = None
    if row.consent and (row.contact_name or row.contact_email or row.contact_phone):
        contact = CaseContact(row.contact_name, row.contact_email, row.contact_phone, True)
    return CaseView(
        id=row.id,
        tenant_id=row.tenant_id,
        number=row.number,
        service=row.service_code,
        service_name=service_name,
        channel=row.channel,
        summary=row.summary,
        description=row.description,
        location=row.location,
        conversation_id=row.conversation_id,
        contact=contact,
        priority=row.priority,
        status=status,
        status_label=status.internal_label,
        citizen_status_label=status.citizen_label,
        assigned_to=row.assigned_to,
        due_date=row.due_date,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
        history=tuple(event_view(event) for event in history or ()),
    )


def parse_status(value: CaseStatus | str) -> CaseStatus:
    """The status named by ``value``, or a French :class:`InvalidCaseError`."""
    try:
        return CaseStatus(value)
    except ValueError as exc:
        raise InvalidCaseError(f"Statut inconnu : « {value} ».") from exc


def contact_outcome(given: CaseContact | None, kept: CaseContact | None) -> str:
    """How the contact details were handled, for the history (never the details themselves)."""
    if kept is not None:
        return "kept"
    if given is not None and not given.empty and not given.consent:
        return "dropped_without_consent"
    return "none"


def validated_update(changes: CaseUpdate) -> dict[str, str | None]:
    """The columns an update changes, checked (``assigned_to=""`` becomes None)."""
    wanted: dict[str, str | None] = {}
    if changes.priority is not None:
        if changes.priority not in PRIORITIES:
            raise InvalidCaseError(f"Priorité inconnue : « {changes.priority} ».")
        wanted["priority"] = changes.priority
    if changes.assigned_to is not None:
        if len(changes.assigned_to) > 128:
            raise InvalidCaseError("L'identifiant de l'agent dépasse 128 caractères.")
        wanted["assigned_to"] = changes.assigned_to.strip() or None
    if changes.summary is not None:
        summary = changes.summary.strip()
        if not summary or len(summary) > 255:
            raise InvalidCaseError("L'objet de la demande doit compter de 1 à 255 caractères.")
        wanted["summary"] = summary
    return wanted

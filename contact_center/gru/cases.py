"""Cases: residents' requests tracked from filing to answer, and their store.

A case gets a human number per commune and year of filing in Paris (``2026-000123``), a
tracking code that cannot be guessed (:mod:`contact_center.gru.tracking_codes`; only its digest is
stored), the service in charge from the commune's catalogue and a due date counted in French
working days from that service's response target.

Every change, filing included, appends one entry to the case's history: who, when, from which
status to which, the fields changed and why. The history is append-only: this store only ever
inserts events, and :mod:`contact_center.gru.schema` refuses any ORM update or delete of them.
Contact details never enter the history (only whether they were kept).

Notices to the resident are written to the outbox (:func:`contact_center.gru.notifications.enqueue`)
in the same transaction as the change they announce, and sent later by the dispatcher.

The domain values live in :mod:`contact_center.gru.case_domain` and are re-exported here.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Collection, Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contact_center.conversation.schema import Conversation
from contact_center.db import Database, utcnow
from contact_center.errors import CaseNotFoundError, InvalidCaseError
from contact_center.gru.case_domain import (
    PRIORITIES,
    TRANSITIONS,
    CaseContact,
    CaseDraft,
    CaseEventView,
    CasePage,
    CaseReceipt,
    CaseStatus,
    CaseUpdate,
    CaseView,
    CitizenCaseStatus,
    NewEvent,
    Priority,
    aware,
    case_view,
    check_transition,
    contact_outcome,
    kept_contact,
    parse_status,
    validate_draft,
    validated_update,
)
from contact_center.gru.contact_confirmation import (
    ContactPolicy,
    confirmation_request,
    open_confirmations,
)
from contact_center.gru.notices import Notice, NoticeContext, receipt_message
from contact_center.gru.outbox import (
    filing_notices,
    notice_context,
    queue_notices,
    status_notices,
)
from contact_center.gru.schema import Case, CaseEvent, ServiceRow, append_event, next_case_seq
from contact_center.gru.service_catalogue import find_row
from contact_center.gru.tracking_codes import (
    new_tracking_code,
    normalise_tracking_code,
    tracking_digest,
)
from contact_center.gru.working_days import add_working_days, paris_date
from routing.service_definitions import TRIAGE_SERVICE

__all__ = [
    "PRIORITIES",
    "TRANSITIONS",
    "CaseContact",
    "CaseDraft",
    "CaseEventView",
    "CasePage",
    "CaseReceipt",
    "CaseStatus",
    "CaseStore",
    "CaseUpdate",
    "CaseView",
    "CitizenCaseStatus",
    "Priority",
]

#: Filing retries if a tracking code's digest is already taken (about never at 50 bits).
_FILING_ATTEMPTS = 3
#: Statuses whose change must say why (the reason is quoted to the resident).
_REASON_REQUIRED = frozenset({CaseStatus.REJECTED, CaseStatus.WAITING_FOR_RESIDENT})


class CaseStore:
    """Persistence and life cycle of cases, scoped by commune.

    Args:
        database: Where cases, their history and the outbox live.
        tenant_names: Commune id -> name signed at the bottom of notices (read at each notice:
            the served communes' live names, contact_center/communes/registry.py).
        clock: Current UTC time (tests pass a fixed one).
        contacts: Confirmation links and per-contact limits
            (:mod:`contact_center.gru.contact_confirmation`).
    """

    def __init__(
        self,
        database: Database,
        *,
        tenant_names: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utcnow,
        contacts: ContactPolicy | None = None,
    ) -> None:
        self._db = database
        self._tenant_names = tenant_names if tenant_names is not None else {}
        self._clock = clock
        self._contacts = contacts or ContactPolicy()

    def file(self, draft: CaseDraft) -> CaseReceipt:
        """Register a request: number, tracking code, due date, history, registration notice.

        Raises:
            InvalidCaseError: the draft cannot be filed (French reason).
        """
        validate_draft(draft)
        contact = kept_contact(draft.contact)
        for attempt in range(_FILING_ATTEMPTS):
            try:
                with self._db.session() as session:
                    return self._file(session, draft, contact)
            except IntegrityError:  # the same tracking digest drawn twice: draw again
                if attempt == _FILING_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _file(self, session: Session, draft: CaseDraft, contact: CaseContact | None) -> CaseReceipt:
        now = self._clock()
        # The counter is the transaction's first statement: it takes the write lock at once
        # (SQLite) or the counter row's lock (PostgreSQL), so concurrent filings queue here.
        seq = next_case_seq(session, draft.tenant_id, paris_date(now).year)
        service = self._service_for(session, draft.tenant_id, draft.service)
        if draft.conversation_id is not None:
            conversation = session.get(Conversation, draft.conversation_id)
            if conversation is None or conversation.tenant_id != draft.tenant_id:
                raise InvalidCaseError("La conversation d'origine est introuvable.")
        code = new_tracking_code()
        case = self._new_case(session, draft, contact, service, code, seq, now)
        wording = confirmation_request(
            case, self._tenant_name(case), draft.actor == "assistant", self._contacts, now
        )
        requests, refused = open_confirmations(session, case, self._contacts, wording, now)
        changes: dict[str, object] = {
            "service": service.code,
            "channel": draft.channel,
            "priority": draft.priority,
            "contact": contact_outcome(draft.contact, contact),
        }
        if refused:
            changes["contact_refused_earlier"] = refused
        if service.code != draft.service:
            changes["service_requested"] = draft.service
        event = NewEvent("created", draft.actor, None, case.status, changes)
        self._append(session, case, event, now)
        notices = requests + filing_notices(self._context(case, service), code)
        queue_notices(session, case, notices, now, self._contacts)
        return CaseReceipt(
            case_id=case.id,
            number=case.number,
            tracking_code=code,
            service=service.code,
            status=CaseStatus.RECEIVED,
            status_label=CaseStatus.RECEIVED.citizen_label,
            due_date=case.due_date,
            service_name=service.name,
            contact_kept=case.consent,
            message=receipt_message(
                case.number, service.name, code, case.due_date, [n.channel for n in requests]
            ),
        )

    def _new_case(
        self,
        session: Session,
        draft: CaseDraft,
        contact: CaseContact | None,
        service: ServiceRow,
        code: str,
        seq: int,
        now: datetime,
    ) -> Case:
        """Add the case, numbered ``seq`` in its commune and year of filing (Paris time)."""
        filed_on = paris_date(now)
        case = Case(
            tenant_id=draft.tenant_id,
            year=filed_on.year,
            seq=seq,
            number=f"{filed_on.year}-{seq:06d}",
            tracking_hash=tracking_digest(draft.tenant_id, code),
            service_code=service.code,
            channel=draft.channel,
            summary=draft.summary.strip(),
            description=draft.description.strip(),
            location=(draft.location or "").strip() or None,
            conversation_id=draft.conversation_id,
            contact_name=contact.name if contact else None,
            contact_email=contact.email if contact else None,
            contact_phone=contact.phone if contact else None,
            consent=contact is not None,
            priority=draft.priority,
            status=CaseStatus.RECEIVED.value,
            due_date=add_working_days(filed_on, service.target_response_days),
            created_at=now,
            updated_at=now,
        )
        session.add(case)
        session.flush()
        return case

    def get(self, tenant_id: str, case_id: str, *, history: bool = True) -> CaseView | None:
        """A case of the commune with its history, or None."""
        with self._db.session() as session:
            case = session.scalar(
                select(Case).where(Case.id == case_id, Case.tenant_id == tenant_id)
            )
            return self._view(session, case, history=history) if case is not None else None

    def list(
        self,
        tenant_id: str,
        *,
        service: str | None = None,
        status: CaseStatus | str | None = None,
        limit: int = 20,
        offset: int = 0,
        within: Collection[str] | None = None,
    ) -> CasePage:
        """A page of the commune's cases, most recent first, optionally filtered.

        ``within`` keeps only the cases of those services (an agent's own); None keeps all.
        """
        query = select(Case).where(Case.tenant_id == tenant_id)
        if service:
            query = query.where(Case.service_code == service)
        if within is not None:
            query = query.where(Case.service_code.in_(sorted(within)))
        if status:
            query = query.where(Case.status == parse_status(status).value)
        with self._db.session() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(Case.created_at.desc(), Case.seq.desc()).limit(limit).offset(offset)
            ).all()
            names = _service_names(session, tenant_id)
            items = [case_view(row, names.get(row.service_code, row.service_code)) for row in rows]
        return CasePage(items=items, total=total, limit=limit, offset=offset)

    def transition(
        self,
        tenant_id: str,
        case_id: str,
        status: CaseStatus | str,
        *,
        actor: str,
        reason: str | None = None,
    ) -> CaseView:
        """Move a case to another status, record it and queue the resident's notice.

        Raises:
            CaseNotFoundError: no such case in this commune.
            InvalidTransitionError: the life cycle does not allow it (French message).
            InvalidCaseError: an unknown status, or a missing reason where one is required.
        """
        target = parse_status(status)
        reason = (reason or "").strip() or None
        if target in _REASON_REQUIRED and reason is None:
            raise InvalidCaseError("Merci d'indiquer le motif de ce changement de statut.")
        with self._db.session() as session:
            case = self._locked(session, tenant_id, case_id)
            current = CaseStatus(case.status)
            check_transition(current, target)
            now = self._clock()
            case.status = target.value
            case.updated_at = now
            notices = self._status_notices(session, case, target, reason)
            queued = queue_notices(session, case, notices, now, self._contacts)
            changes: dict[str, object] = {"notices": queued["notices"]}
            if queued["held"]:
                changes["held"] = queued["held"]
            event = NewEvent("status", actor, current.value, target.value, changes, reason)
            self._append(session, case, event, now)
            return self._view(session, case, history=True)

    def update(
        self,
        tenant_id: str,
        case_id: str,
        changes: CaseUpdate,
        *,
        actor: str,
        reason: str | None = None,
    ) -> CaseView:
        """Change priority, assignment or summary; one history entry lists what changed.

        Raises:
            CaseNotFoundError: no such case in this commune.
            InvalidCaseError: an unknown priority, an empty or too long summary.
        """
        wanted = validated_update(changes)
        with self._db.session() as session:
            case = self._locked(session, tenant_id, case_id)
            diff: dict[str, list[str | None]] = {}
            for name, value in wanted.items():
                if getattr(case, name) != value:
                    diff[name] = [getattr(case, name), value]
                    setattr(case, name, value)
            if diff:
                now = self._clock()
                case.updated_at = now
                event = NewEvent("updated", actor, None, None, dict(diff), reason)
                self._append(session, case, event, now)
            return self._view(session, case, history=True)

    def citizen_status(self, tenant_id: str, tracking_code: str) -> CitizenCaseStatus | None:
        """What a tracking code shows, or None for a wrong code or another commune's code.

        Malformed input takes the same path (digest and query) as a well-formed wrong code, so
        the answer time does not tell them apart.
        """
        canonical = normalise_tracking_code(tracking_code)
        digest = tracking_digest(tenant_id, canonical or "-")
        with self._db.session() as session:
            found = session.execute(
                select(Case, ServiceRow.name)
                .outerjoin(
                    ServiceRow,
                    (ServiceRow.tenant_id == Case.tenant_id)
                    & (ServiceRow.code == Case.service_code),
                )
                .where(Case.tenant_id == tenant_id, Case.tracking_hash == digest)
            ).first()
        if found is None or canonical is None:
            return None
        case, service_name = found
        return CitizenCaseStatus(
            tracking_code=canonical,
            service_name=service_name or case.service_code,
            status_label=CaseStatus(case.status).citizen_label,
            updated_on=paris_date(aware(case.updated_at)),
            due_date=case.due_date,
        )

    # --- inside a transaction -----------------------------------------------------------

    def _service_for(self, session: Session, tenant_id: str, code: str) -> ServiceRow:
        """The commune's active service, else its general reception."""
        for candidate in (code, TRIAGE_SERVICE):
            row = find_row(session, tenant_id, candidate)
            if row is not None and row.active:
                return row
        raise InvalidCaseError("Ce service n'est pas proposé par la commune.")

    def _locked(self, session: Session, tenant_id: str, case_id: str) -> Case:
        case = session.scalar(
            select(Case).where(Case.id == case_id, Case.tenant_id == tenant_id).with_for_update()
        )
        if case is None:
            raise CaseNotFoundError()
        return case

    def _append(self, session: Session, case: Case, event: NewEvent, now: datetime) -> None:
        append_event(session, case, event, now)

    def _status_notices(
        self, session: Session, case: Case, target: CaseStatus, reason: str | None
    ) -> builtins.list[Notice]:
        service = find_row(session, case.tenant_id, case.service_code)
        if service is None:
            return []
        return status_notices(self._context(case, service), target, reason)

    def _context(self, case: Case, service: ServiceRow) -> NoticeContext:
        return notice_context(case, service, self._tenant_name(case))

    def _tenant_name(self, case: Case) -> str:
        return self._tenant_names.get(case.tenant_id, case.tenant_id)

    def _view(self, session: Session, case: Case, *, history: bool) -> CaseView:
        service = find_row(session, case.tenant_id, case.service_code)
        events = None
        if history:
            events = builtins.list(
                session.scalars(
                    select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
                )
            )
        return case_view(case, service.name if service else case.service_code, events)


def _service_names(session: Session, tenant_id: str) -> dict[str, str]:
    rows = session.execute(
        select(ServiceRow.code, ServiceRow.name).where(ServiceRow.tenant_id == tenant_id)
    )
    return {code: name for code, name in rows}

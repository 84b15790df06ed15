"""Deterministic fakes of the contact centre's ports, for tests and demos.

* :class:`FakeGru`: an in-memory :class:`~contact_center.gru.connector.GruConnector` that
  keeps the real rules (validation, consent, life cycle), for tests of the parts that file
  cases (engine, channels).
* :class:`FakeNotifier`: a :class:`~contact_center.gru.notifications.Notifier` that records
  messages instead of sending them, and can fail on purpose (``CC_NOTIFICATIONS__BACKEND=fake``
  picks it, for demos without a mail server).

Both pass the contracts of :mod:`contact_center.testing.contracts`, as the real ones do.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime

from contact_center.db import new_id, utcnow
from contact_center.errors import CaseNotFoundError, NotificationError
from contact_center.gru.case_domain import (
    check_transition,
    kept_contact,
    parse_status,
    validate_draft,
)
from contact_center.gru.cases import (
    CaseContact,
    CaseDraft,
    CaseReceipt,
    CaseStatus,
    CitizenCaseStatus,
)
from contact_center.gru.notices import receipt_message
from contact_center.gru.notifications import OutgoingMessage
from contact_center.gru.tracking_codes import new_tracking_code, normalise_tracking_code
from contact_center.gru.working_days import add_working_days, paris_date
from routing.service_definitions import DEMO_CATALOGUE


@dataclass
class _FakeCase:
    receipt: CaseReceipt
    tenant_id: str
    status: CaseStatus
    updated_at: datetime


class FakeGru:
    """An in-memory GRU that keeps the real rules (validation, consent, life cycle).

    Numbers count up per commune from ``<year>-000001``; due dates use the demo catalogue's
    response targets. ``filed`` keeps every accepted draft (contact dropped without consent)
    and ``changes`` every status change, for assertions.
    """

    def __init__(self) -> None:
        self.filed: list[CaseDraft] = []
        self.changes: list[tuple[str, CaseStatus, str, str | None]] = []
        self._cases: dict[str, _FakeCase] = {}
        self._lock = threading.Lock()

    def file_case(self, draft: CaseDraft) -> CaseReceipt:
        validate_draft(draft)
        contact = kept_contact(draft.contact)
        service = DEMO_CATALOGUE[draft.service]
        now = utcnow()
        with self._lock:
            count = 1 + sum(1 for case in self._cases.values() if case.tenant_id == draft.tenant_id)
            number = f"{paris_date(now).year}-{count:06d}"
            code = new_tracking_code()
            due = add_working_days(paris_date(now), service.target_response_days)
            channels = [name for name, value in _ways(contact) if value]
            receipt = CaseReceipt(
                case_id=new_id(),
                number=number,
                tracking_code=code,
                service=service.code,
                status=CaseStatus.RECEIVED,
                status_label=CaseStatus.RECEIVED.citizen_label,
                due_date=due,
                service_name=service.name,
                contact_kept=contact is not None,
                message=receipt_message(number, service.name, code, due, channels),
            )
            self._cases[receipt.case_id] = _FakeCase(receipt, draft.tenant_id, receipt.status, now)
            self.filed.append(replace(draft, contact=contact))
        return receipt

    def citizen_status(self, tenant_id: str, tracking_code: str) -> CitizenCaseStatus | None:
        canonical = normalise_tracking_code(tracking_code)
        with self._lock:
            for case in self._cases.values():
                if case.tenant_id == tenant_id and case.receipt.tracking_code == canonical:
                    return CitizenCaseStatus(
                        tracking_code=canonical,
                        service_name=case.receipt.service_name,
                        status_label=case.status.citizen_label,
                        updated_on=paris_date(case.updated_at),
                        due_date=case.receipt.due_date,
                    )
        return None

    def update_status(
        self,
        tenant_id: str,
        case_id: str,
        status: CaseStatus | str,
        actor: str,
        reason: str | None = None,
    ) -> None:
        target = parse_status(status)
        with self._lock:
            case = self._cases.get(case_id)
            if case is None or case.tenant_id != tenant_id:
                raise CaseNotFoundError()
            check_transition(case.status, target)
            case.status = target
            case.updated_at = utcnow()
            self.changes.append((case_id, target, actor, reason))


def _ways(contact: CaseContact | None) -> tuple[tuple[str, str | None], ...]:
    if contact is None:
        return ()
    return (("email", contact.email), ("sms", contact.phone))


class FakeNotifier:
    """Records messages instead of sending them; can fail on purpose.

    Used by tests and by demos without a mail server. ``fail_next`` makes the next sends fail
    with a temporary :class:`~contact_center.errors.NotificationError`.
    """

    def __init__(self, *, fail_next: int = 0) -> None:
        self.sent: list[OutgoingMessage] = []
        self.fail_next = fail_next
        self._lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> None:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                raise NotificationError("fake notifier: failure on purpose")
            self.sent.append(message)

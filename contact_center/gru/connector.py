"""The GRU port: how the contact centre files cases and reads their status.

The conversation engine, the channels and the public tracking page only talk to a
:class:`GruConnector`. Two implementations ship:

* :class:`BuiltinGru`, the default: cases live in the contact centre's own database
  (:class:`contact_center.gru.cases.CaseStore`), agents work them in the console.
* :class:`FakeGru`, in memory, for tests of the parts that file cases (engine, channels).

Plugging a town's own GRU (Publik, a CRM, a ticketing tool): write a class with the three
methods of :class:`GruConnector` that calls the town's API (map ``CaseDraft.service`` to the
town's own categories, return the town's case number and a tracking code the resident can use
with it, translate its errors into :class:`~contact_center.errors.CaseError` or
:class:`~contact_center.errors.BackendError`), add its name to ``GruSection.backend`` and a
branch in :func:`build_gru`, and run ``tests/contact_center/test_gru.py``'s contract against it.
The agents' REST API (``contact_center/web/cases_api.py``) serves the built-in store only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from contact_center.db import new_id, utcnow
from contact_center.errors import CaseNotFoundError
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
    CaseStore,
    CitizenCaseStatus,
)
from contact_center.gru.notices import receipt_message
from contact_center.gru.tracking_codes import new_tracking_code, normalise_tracking_code
from contact_center.gru.working_days import add_working_days, paris_date
from contact_center.settings import GruSection
from routing.service_definitions import DEMO_CATALOGUE


class GruConnector(Protocol):
    """Files residents' requests as cases and tells their status."""

    def file_case(self, draft: CaseDraft) -> CaseReceipt:
        """Register a request; the receipt carries the number and the tracking code.

        Raises:
            InvalidCaseError: the draft cannot be filed (French reason).
        """

    def citizen_status(self, tenant_id: str, tracking_code: str) -> CitizenCaseStatus | None:
        """The resident's view for a tracking code of this commune, else None."""

    def update_status(
        self,
        tenant_id: str,
        case_id: str,
        status: CaseStatus | str,
        actor: str,
        reason: str | None = None,
    ) -> None:
        """Move a case to another status.

        Raises:
            CaseNotFoundError: no such case in this commune.
            InvalidTransitionError: the life cycle does not allow it.
        """


class BuiltinGru:
    """Cases in the contact centre's own database."""

    def __init__(self, cases: CaseStore) -> None:
        self.cases = cases

    def file_case(self, draft: CaseDraft) -> CaseReceipt:
        return self.cases.file(draft)

    def citizen_status(self, tenant_id: str, tracking_code: str) -> CitizenCaseStatus | None:
        return self.cases.citizen_status(tenant_id, tracking_code)

    def update_status(
        self,
        tenant_id: str,
        case_id: str,
        status: CaseStatus | str,
        actor: str,
        reason: str | None = None,
    ) -> None:
        self.cases.transition(tenant_id, case_id, status, actor=actor, reason=reason)


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


def build_gru(settings: GruSection, cases: CaseStore) -> GruConnector:
    """The connector the settings name (only ``builtin`` ships)."""
    if settings.backend == "builtin":
        return BuiltinGru(cases)
    raise AssertionError(f"unknown GRU backend {settings.backend!r}")  # pragma: no cover


def _ways(contact: CaseContact | None) -> tuple[tuple[str, str | None], ...]:
    if contact is None:
        return ()
    return (("email", contact.email), ("sms", contact.phone))

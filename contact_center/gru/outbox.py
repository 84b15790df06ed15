"""From a stored case to the notices queued in the outbox, inside the caller's transaction.

:mod:`contact_center.gru.notices` writes the texts from plain values; this module reads them
off the ORM rows and queues them with :func:`contact_center.gru.notifications.enqueue`, so that
they commit or roll back with the change they announce. Each goes through
:func:`contact_center.gru.contact_confirmation.hold_reason` first: a contact that has not
confirmed, or has had its share of messages today, gets the notice recorded as held.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from contact_center.gru.case_domain import CaseStatus, aware
from contact_center.gru.contact_confirmation import ContactPolicy, hold_reason
from contact_center.gru.notices import (
    Notice,
    NoticeContext,
    acknowledgement_notices,
    registration_notices,
    rejected_notices,
    resolved_notices,
    waiting_notices,
)
from contact_center.gru.notifications import enqueue
from contact_center.gru.schema import Case, ServiceRow
from contact_center.gru.working_days import paris_date

_WITH_REASON = {
    CaseStatus.WAITING_FOR_RESIDENT: waiting_notices,
    CaseStatus.RESOLVED: resolved_notices,
    CaseStatus.REJECTED: rejected_notices,
}


def notice_context(case: Case, service: ServiceRow, tenant_name: str) -> NoticeContext:
    """What notices may say; contact details only when the resident consented."""
    return NoticeContext(
        tenant_name=tenant_name,
        number=case.number,
        summary=case.summary,
        filed_on=paris_date(aware(case.created_at)),
        due_date=case.due_date,
        service_name=service.name,
        service_address=service.address,
        service_phone=service.phone,
        service_email=service.email,
        service_hours=service.opening_hours,
        email=case.contact_email if case.consent else None,
        phone=case.contact_phone if case.consent else None,
    )


def filing_notices(ctx: NoticeContext, tracking_code: str) -> list[Notice]:
    """The registration receipt (the only notice with the tracking code)."""
    return registration_notices(ctx, tracking_code)


def status_notices(ctx: NoticeContext, target: CaseStatus, reason: str | None) -> list[Notice]:
    """The notices a move to ``target`` sends (none for in_progress and closed)."""
    if target is CaseStatus.ACKNOWLEDGED:
        return acknowledgement_notices(ctx)
    build = _WITH_REASON.get(target)
    return build(ctx, reason) if build else []


def queue_notices(
    session: Session, case: Case, notices: list[Notice], now: datetime, policy: ContactPolicy
) -> dict[str, list[str]]:
    """Write the notices into the outbox, in the caller's transaction.

    Returns the channels queued to be sent (``notices``) and those held (``held``).
    """
    outcome: dict[str, list[str]] = {"notices": [], "held": []}
    for notice in notices:
        held = hold_reason(session, case, notice, policy, now)
        enqueue(
            session,
            tenant_id=case.tenant_id,
            case_id=case.id,
            kind=notice.kind,
            channel=notice.channel,
            recipient=notice.recipient,
            subject=notice.subject,
            body=notice.body,
            now=now,
            held_reason=held,
        )
        session.flush()  # the next notice's per-contact count sees this one
        outcome["held" if held else "notices"].append(notice.channel)
    return outcome

"""The commune's outcome figures, for supervisors and administrators.

``GET /api/v1/console/outcomes`` gives the figures of :mod:`contact_center.handoffs.outcomes`
over a period (by day or by week, for one service or all), their commune's only;
``GET /api/v1/console/outcomes.csv`` the same figures as a CSV file (semicolons, comma
decimals, UTF-8 with a byte-order mark: what a spreadsheet in French opens as is).
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel

from contact_center.agents.accounts import Agent
from contact_center.handoffs.history import PARIS
from contact_center.handoffs.outcomes import MAX_DAYS, Bucket, Figures, OutcomeReport
from contact_center.web.deps import CatalogueDep, OutcomesDep, require_role
from routing.handoff import REASON_LABELS

router = APIRouter(prefix="/api/v1/console", tags=["agents' console"])
Supervisor = Annotated[Agent, Depends(require_role("supervisor"))]
#: The period shown when none is asked for: the last four weeks.
DEFAULT_DAYS = 28
#: French labels of the rates, in the order of the CSV columns.
RATE_LABELS: dict[str, str] = {
    "automated_resolution": "Résolution automatique (%)",
    "handoff": "Transfert à un agent (%)",
    "reopen": "Réouverture sous 7 jours (%)",
    "durable_resolution": "Résolution durable (%)",
    "first_contact_resolution": "Résolution au premier contact (%)",
}
PATH_LABELS = {"validated": "Réponse validée", "extractive": "Extraits", "generated": "Générée"}


class FiguresOut(BaseModel):
    """The figures of one group of conversations (the period, a bucket, a service)."""

    closed: int
    matured: int
    automated: int
    handed_off: int
    reopened: int
    durable: int
    first_contact: int
    rates: dict[str, float | None]
    handoff_reasons: dict[str, int]
    csat_average: float | None
    csat_count: int


class BucketOut(FiguresOut):
    """One day or week (``start``: its first day)."""

    start: date


class ServiceOut(FiguresOut):
    """One service."""

    service: str
    service_name: str


class TopicOut(BaseModel):
    """A group of similar questions the assistant did not answer well."""

    count: int
    examples: list[str]


class OutcomesOut(BaseModel):
    """The commune's outcome figures over one period."""

    date_from: date
    date_to: date
    bucket: Bucket
    total: FiguresOut
    buckets: list[BucketOut]
    services: list[ServiceOut]
    answer_paths: dict[str, int]
    topics: list[TopicOut]
    rate_labels: dict[str, str]
    reason_labels: dict[str, str]
    path_labels: dict[str, str]


def _figures(figures: Figures) -> dict[str, object]:
    return {
        "closed": figures.closed, "matured": figures.matured, "automated": figures.automated,
        "handed_off": figures.handed_off, "reopened": figures.reopened,
        "durable": figures.durable, "first_contact": figures.first_contact,
        "rates": figures.rates(), "handoff_reasons": dict(figures.handoff_reasons),
        "csat_average": figures.csat_average, "csat_count": len(figures.ratings),
    }  # fmt: skip


def period_report(
    outcomes: OutcomesDep,
    agent: Supervisor,
    date_from: date | None = None,
    date_to: date | None = None,
    bucket: Bucket = "day",
    service: str | None = None,
) -> OutcomeReport:
    """The figures of the period the query asks for (both routes' parameters)."""
    today = outcomes.clock().astimezone(PARIS).date()
    date_to = date_to or today
    date_from = date_from or date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:
        raise HTTPException(
            422,
            {"code": "invalid_period", "message": "La date de début doit précéder la date de fin."},
        )
    if (date_to - date_from).days >= MAX_DAYS:
        message = f"La période ne peut pas dépasser {MAX_DAYS} jours."
        raise HTTPException(422, {"code": "period_too_long", "message": message})
    return outcomes.report(agent.tenant_id, date_from, date_to, bucket, service or None)


PeriodReport = Annotated[OutcomeReport, Depends(period_report)]


@router.get("/outcomes")
def outcomes(report: PeriodReport, catalogue: CatalogueDep, agent: Supervisor) -> OutcomesOut:
    """The commune's outcome figures over the period (the last four weeks by default)."""
    names = {entry.code: entry.name for entry in catalogue.list(agent.tenant_id)}
    return OutcomesOut(
        date_from=report.date_from, date_to=report.date_to, bucket=report.bucket,
        total=FiguresOut.model_validate(_figures(report.total)),
        buckets=[BucketOut.model_validate({"start": s, **_figures(f)}) for s, f in report.buckets],
        services=[
            ServiceOut.model_validate(
                {"service": code, "service_name": names.get(code, code), **_figures(f)}
            )
            for code, f in report.services.items()
        ],
        answer_paths=report.answer_paths,
        topics=[TopicOut(count=t.count, examples=t.examples) for t in report.topics],
        rate_labels=RATE_LABELS, reason_labels=REASON_LABELS, path_labels=PATH_LABELS,
    )  # fmt: skip


@router.get("/outcomes.csv", response_class=Response)
def outcomes_csv(report: PeriodReport, catalogue: CatalogueDep, agent: Supervisor) -> Response:
    """The same figures as a CSV file: one line per day or week, per service, and in all."""
    names = {entry.code: entry.name for entry in catalogue.list(agent.tenant_id)}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        ["Regroupement", "Valeur", "Conversations closes", "Closes depuis 7 jours",
         *RATE_LABELS.values(), "Satisfaction moyenne (1 à 5)", "Avis"]
    )  # fmt: skip
    unit = "Semaine du" if report.bucket == "week" else "Jour"
    rows = [(unit, start.isoformat(), f) for start, f in report.buckets]
    rows += [("Service", names.get(code, code), f) for code, f in report.services.items()]
    rows.append(
        ("Période", f"{report.date_from.isoformat()} au {report.date_to.isoformat()}", report.total)
    )
    for kind, value, figures in rows:
        rates = figures.rates()
        shown = [_decimal(rates[key]) for key in RATE_LABELS]
        writer.writerow(
            [kind, value, figures.closed, figures.matured, *shown,
             _decimal(figures.csat_average), len(figures.ratings)]
        )  # fmt: skip
    for reason, count in sorted(report.total.handoff_reasons.items()):
        writer.writerow(["Motif de transfert", REASON_LABELS.get(reason, reason), count])
    for path, count in report.answer_paths.items():
        writer.writerow(["Réponses par voie", PATH_LABELS[path], count])
    for topic in report.topics:
        writer.writerow(["Question sans réponse", topic.examples[0], topic.count])
    filename = f"resultats-{report.date_from.isoformat()}-{report.date_to.isoformat()}.csv"
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _decimal(value: float | None) -> str:
    return "" if value is None else f"{value:g}".replace(".", ",")

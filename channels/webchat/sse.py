"""Server-Sent Events encoding of the engine's turn events (web chat protocol), and how the
web chat words a handoff notice (:func:`chat_notice`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from contact_center.conversation.turns import (
    AnswerDelta,
    HandoffNotice,
    SourcesFound,
    TurnAccepted,
    TurnCompleted,
    TurnEvent,
    TurnFailed,
)

EMERGENCY = (
    "Si vous êtes en danger, appelez le {police} (police) ou le {european}. Pour un hébergement "
    "d'urgence ce soir, le {shelter} (Samu social) répond jour et nuit, gratuitement. En cas de "
    "violences, le {violence} est gratuit et anonyme.\n"
)
QUEUED = (
    "Je transmets notre conversation à un agent ({service}). Il verra tout notre échange : "
    "vous n'aurez pas à répéter votre demande. Restez sur cette page, il vous répondra ici "
    "dès que possible."
)
CLOSED_NOW = (
    "Les agents ({service}) ne sont pas disponibles en ce moment. Horaires : {hours}\n"
    "Je peux enregistrer votre demande pour qu'un agent vous recontacte. "
)


def chat_notice(notice: HandoffNotice) -> str:
    """The handoff notice as the web chat shows it (the agent answers on the same page)."""
    prefix = EMERGENCY.format(**asdict(notice.emergency)) if notice.emergency else ""
    if notice.agents_available:
        return prefix + QUEUED.format(service=notice.service_name)
    hours = notice.opening_hours or "non communiqués"
    return prefix + CLOSED_NOW.format(service=notice.service_name, hours=hours)


def sse(event: str, data: dict[str, Any]) -> str:
    """One SSE frame."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def encode_event(event: TurnEvent) -> str:
    """The SSE frame of an engine event, as the widget expects it."""
    match event:
        case TurnAccepted(message_id=message_id):
            return sse("accepted", {"message_id": message_id})
        case SourcesFound(sources=sources):
            return sse("sources", {"sources": sources})
        case AnswerDelta(text=text):
            return sse("token", {"text": text})
        case TurnFailed(code=code, message=message):
            return sse("error", {"code": code, "message": message})
        case TurnCompleted():
            return sse(
                "done",
                {
                    "message_id": event.message_id,
                    "answer": event.answer,
                    "sources": event.sources,
                    "abstained": event.abstained,
                    "reason": event.reason,
                    "latency_ms": event.latency_ms.get("total"),
                    "action": event.action,
                    "case": _citizen_case(event.case),
                },
            )
    raise TypeError(f"unknown event {event!r}")


def _citizen_case(case: dict[str, Any]) -> dict[str, Any] | None:
    """What the resident's page may show of a case filed in this turn."""
    if not case:
        return None
    keys = ("number", "tracking_code", "service", "due_date")
    return {key: case[key] for key in keys if key in case}

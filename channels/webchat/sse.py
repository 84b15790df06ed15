"""Server-Sent Events encoding of the engine's turn events (web chat protocol)."""

from __future__ import annotations

import json
from typing import Any

from contact_center.conversation.turns import (
    AnswerDelta,
    SourcesFound,
    TurnAccepted,
    TurnCompleted,
    TurnEvent,
    TurnFailed,
)


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

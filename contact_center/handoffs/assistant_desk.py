"""The assistant's side of a handoff: open it, and say what happened as a value.

During the service's opening hours the conversation joins the service's queue with a short
summary for the agent (who never has to ask the resident to repeat). Outside them, nobody is
there to answer: the resident is offered a case with a callback instead (the case intake of
:mod:`contact_center.conversation.actions` starts at the contact question). Distress always comes
with the emergency numbers first, whatever the hour.

The desk does not word the notice: it returns a
:class:`~contact_center.conversation.turns.HandoffNotice`, and each channel tells it in its own
words (« Restez sur cette page » on a screen, « Restez en ligne » on the phone).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from contact_center.conversation.actions import ASK_CONTACT, ActionReply
from contact_center.conversation.intake import IntakeState
from contact_center.conversation.turns import EmergencyNumbers, HandoffNotice
from contact_center.db import utcnow
from contact_center.gru.service_catalogue import ServiceCatalogue
from contact_center.handoffs.opening_hours import is_open
from contact_center.handoffs.queue import HandoffStore, HandoffView
from routing.classifier import RouteDecision
from routing.handoff import REASON_LABELS, HandoffDecision
from routing.service_definitions import TRIAGE_SERVICE

WITH_AGENT = "Votre message a été transmis à l'agent qui suit votre conversation."


class HandoffDesk:
    """Opens handoffs for the conversation engine and says what happened (channels word it)."""

    def __init__(
        self,
        store: HandoffStore,
        catalogue: ServiceCatalogue,
        clock: Callable[[], datetime] = utcnow,
        on_opened: Callable[[HandoffView], None] | None = None,
    ) -> None:
        self.store = store
        self._catalogue = catalogue
        self.clock = clock
        #: Called with each handoff opened (the console's live queue listens to it).
        self.on_opened = on_opened

    def open(
        self,
        *,
        tenant_id: str,
        conversation_id: str,
        channel: str,
        decision: HandoffDecision,
        routing: RouteDecision | None,
        resident_messages: Sequence[str],
    ) -> ActionReply:
        """Queue the conversation, or offer a callback case out of hours.

        The reply's ``notice`` says what happened (the channel words it); its ``text`` is what
        follows the notice: the intake's contact question for a callback, else nothing.
        """
        service = decision.service or _routed_service(routing)
        entry = self._catalogue.get(tenant_id, service)
        name = entry.name if entry is not None else service
        notice = HandoffNotice(
            reason=decision.reason,
            service=service,
            service_name=name,
            agents_available=True,
            emergency=EmergencyNumbers() if decision.reason == "sensitive" else None,
        )
        hours = (entry.extra.get("agent_hours") if entry is not None else None) or None
        if not is_open(hours, self.clock()):
            intake = IntakeState(
                step="contact",
                service=service,
                description="\n".join(resident_messages[-3:]),
                priority=decision.priority,
                routing={"service": service, "handoff": decision.reason, "callback": True},
            )
            closed = replace(
                notice,
                agents_available=False,
                opening_hours=entry.opening_hours if entry else "non communiqués",
            )
            return ActionReply(ASK_CONTACT, "callback_offered", intake.to_json(), notice=closed)
        view = self.store.open(
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            service=service,
            decision=decision,
            summary=summary(decision, routing, resident_messages, name),
            channel=channel,
            details={"routing": _routing_brief(routing)},
        )
        if self.on_opened is not None:
            self.on_opened(view)
        return ActionReply(
            "",
            "handoff",
            {"kind": "handoff", "handoff_id": view.id, "service": service},
            case={},
            handoff={"id": view.id, "reason": decision.reason, "service": service},
            notice=replace(notice, queue_position=self._position(view)),
        )

    def _position(self, view: HandoffView) -> int | None:
        """The handoff's place among those waiting for its service (1 is next)."""
        waiting = self.store.queue(view.tenant_id, [view.service], statuses=("waiting",))
        ids = [h.id for h in waiting]
        return ids.index(view.id) + 1 if view.id in ids else None


def _routed_service(routing: RouteDecision | None) -> str:
    if routing is None or routing.needs_triage or routing.service == "hors_commune":
        return TRIAGE_SERVICE
    return routing.service


def _routing_brief(routing: RouteDecision | None) -> dict[str, object] | None:
    if routing is None:
        return None
    return {
        "service": routing.service,
        "confidence": round(routing.confidence, 4),
        "alternatives": [[s, round(p, 4)] for s, p in routing.alternatives],
    }


def summary(
    decision: HandoffDecision,
    routing: RouteDecision | None,
    resident_messages: Sequence[str],
    service_name: str,
) -> str:
    """The agent's summary: why, where, and what the resident said last."""
    lines = [f"Motif du transfert : {REASON_LABELS.get(decision.reason, decision.reason)}."]
    if routing is not None:
        confidence = f"{routing.confidence:.0%}".replace("%", " %")
        lines.append(f"Orientation proposée : {service_name} (confiance {confidence}).")
    recent = [m for m in resident_messages if m.strip()][-3:]
    if recent:
        lines.append("Derniers messages de l'usager :")
        lines.extend(f"« {' '.join(m.split())[:300]} »" for m in recent)
    return "\n".join(lines)

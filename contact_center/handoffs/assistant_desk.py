"""The assistant's side of a handoff: open it, tell the resident plainly what happens next.

During the service's opening hours the conversation joins the service's queue with a short
summary for the agent (who never has to ask the resident to repeat). Outside them, nobody is
there to answer: the resident is offered a case with a callback instead (the case intake of
:mod:`contact_center.conversation.actions` starts at the contact question). Distress always comes
with the emergency numbers first, whatever the hour.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from contact_center.conversation.actions import ASK_CONTACT, ActionReply
from contact_center.conversation.intake import IntakeState
from contact_center.db import utcnow
from contact_center.gru.service_catalogue import ServiceCatalogue
from contact_center.handoffs.opening_hours import is_open
from contact_center.handoffs.queue import HandoffStore, HandoffView
from routing.classifier import RouteDecision
from routing.handoff import REASON_LABELS, HandoffDecision
from routing.service_definitions import TRIAGE_SERVICE

EMERGENCY = (
    "Si vous êtes en danger, appelez le 17 (police) ou le 112. Pour un hébergement d'urgence "
    "ce soir, le 115 (Samu social) répond jour et nuit, gratuitement. En cas de violences, le "
    "3919 est gratuit et anonyme.\n"
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
WITH_AGENT = "Votre message a été transmis à l'agent qui suit votre conversation."


class HandoffDesk:
    """Opens handoffs for the conversation engine and words them for the resident."""

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
        """Queue the conversation, or offer a callback case out of hours."""
        service = decision.service or _routed_service(routing)
        entry = self._catalogue.get(tenant_id, service)
        name = entry.name if entry is not None else service
        prefix = EMERGENCY if decision.reason == "sensitive" else ""
        hours = (entry.extra.get("agent_hours") if entry is not None else None) or None
        if not is_open(hours, self.clock()):
            intake = IntakeState(
                step="contact",
                service=service,
                description="\n".join(resident_messages[-3:]),
                priority=decision.priority,
                routing={"service": service, "handoff": decision.reason, "callback": True},
            )
            text = prefix + CLOSED_NOW.format(
                service=name, hours=entry.opening_hours if entry else "non communiqués"
            )
            return ActionReply(text + ASK_CONTACT, "callback_offered", intake.to_json())
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
            prefix + QUEUED.format(service=name),
            "handoff",
            {"kind": "handoff", "handoff_id": view.id, "service": service},
            case={},
            handoff={"id": view.id, "reason": decision.reason, "service": service},
        )


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

"""The agents' side of a handoff: what they do, and the live events each action publishes.

Every action goes to :class:`~contact_center.handoffs.queue.HandoffStore` first (the database is the
truth), then publishes two kinds of events on the :mod:`~contact_center.handoffs.realtime` bus:

* on the commune's console channel, for the agents' queues and open conversations:
  ``handoff_opened``, ``handoff_claimed``, ``handoff_transferred``, ``handoff_closed``,
  ``handoff_returned``, ``resident_message``, ``agent_message``; each names the ``services``
  it concerns, so that a console shows an agent only the events of services they may read;
* on the conversation's channel, for the resident's page, in plain French: ``agent_joined``,
  ``agent_message``, ``transferred``, ``closed`` (the page then asks for a rating) and
  ``handed_back``, and ``agent_typing`` while the agent writes.

Typing events (:mod:`~contact_center.handoffs.typing`) are throttled and never stored.
Agents are named « Agent de la mairie » to residents, never by their own name.
Nothing here knows FastAPI; access control is the caller's (``api/console.py``).
"""

from __future__ import annotations

import logging
from typing import Any

from contact_center.conversation.store import ConversationStore, MessageView
from contact_center.db import utcnow
from contact_center.gru.cases import CaseDraft, CaseReceipt
from contact_center.gru.connector import GruConnector
from contact_center.gru.service_catalogue import ServiceCatalogue
from contact_center.handoffs.queue import HandoffStore, HandoffView
from contact_center.handoffs.realtime import EventBus, console_channel, conversation_channel
from contact_center.handoffs.typing import TypingThrottle

log = logging.getLogger(__name__)

AGENT_JOINED = "Un agent de la mairie a rejoint la conversation. Il lit votre échange."
TRANSFERRED = (
    "Votre conversation est transmise au service {service}. Un agent va vous répondre ici."
)
CLOSED = "L'agent a terminé cet échange. Vous pouvez continuer à poser vos questions à l'assistant."
HANDED_BACK = "L'agent a rendu la main à l'assistant de la commune, qui reprend la conversation."
RESIDENT_TYPING = "L'usager écrit…"
AGENT_TYPING = "Un agent écrit…"

#: French labels of the resolutions an agent closes an exchange with.
RESOLUTION_LABELS: dict[str, str] = {
    "resolved_first_contact": "Résolue au premier contact",
    "resolved": "Résolue",
    "case_opened": "Demande enregistrée (dossier ouvert)",
    "redirected": "Réorientée vers un autre organisme",
    "abandoned": "Abandonnée par l'usager",
}


class AgentDesk:
    """Agents' actions on handoffs, published live to consoles and residents' pages."""

    def __init__(
        self,
        handoffs: HandoffStore,
        conversations: ConversationStore,
        catalogue: ServiceCatalogue,
        gru: GruConnector,
        bus: EventBus,
    ) -> None:
        self.handoffs = handoffs
        self._conversations = conversations
        self._catalogue = catalogue
        self._gru = gru
        self.bus = bus
        self.typing = TypingThrottle()

    # -- events from the assistant's side ---------------------------------------------------

    def opened(self, view: HandoffView) -> None:
        """A conversation joined a queue (called by the handoff desk)."""
        self._console("handoff_opened", view)

    def resident_wrote(self, tenant_id: str, conversation_id: str, text: str) -> None:
        """The resident wrote while a person holds the conversation (the engine's hook)."""
        view = self.handoffs.active_for(conversation_id)
        if view is None or view.tenant_id != tenant_id:
            return
        self._console("resident_message", view, text=text)

    def resident_typing(self, conversation_id: str) -> bool:
        """The resident is typing while an agent holds the conversation: the console says so
        (throttled); False when nothing was published."""
        view = self.handoffs.active_for(conversation_id)
        if view is None or view.status != "claimed":
            return False
        if not self.typing.allow(conversation_id, "resident"):
            return False
        self._console("resident_typing", view, message=RESIDENT_TYPING)
        return True

    # -- agents' actions ---------------------------------------------------------------------

    def claim(self, handoff: HandoffView, agent_id: str) -> HandoffView:
        """Take a waiting conversation."""
        view = self.handoffs.claim(handoff.tenant_id, handoff.id, agent_id)
        self._console("handoff_claimed", view)
        self._resident(view, {"type": "agent_joined", "message": AGENT_JOINED})
        return view

    def reply(self, handoff: HandoffView, agent_id: str, text: str) -> MessageView:
        """Write to the resident (the agent must hold the conversation)."""
        message = self.handoffs.post_agent_message(handoff.tenant_id, handoff.id, agent_id, text)
        payload = message_payload(message)
        self._console("agent_message", handoff, message=payload)
        self._resident(handoff, {"type": "agent_message", **payload})
        return message

    def agent_typing(self, handoff: HandoffView, agent_id: str) -> bool:
        """The agent holding the conversation is typing: the resident's page says so
        (throttled); False when nothing was published."""
        if handoff.status != "claimed" or handoff.claimed_by != agent_id:
            return False
        if not self.typing.allow(handoff.conversation_id, "agent"):
            return False
        self._resident(handoff, {"type": "agent_typing", "message": AGENT_TYPING})
        return True

    def transfer(
        self, handoff: HandoffView, agent_id: str, service: str, note: str = ""
    ) -> HandoffView:
        """Send the conversation to another service's queue."""
        view = self.handoffs.transfer(handoff.tenant_id, handoff.id, agent_id, service, note)
        self._console("handoff_transferred", view, also=handoff.service, previous=handoff.service)
        name = self.service_name(view.tenant_id, service)
        self._resident(view, {"type": "transferred", "message": TRANSFERRED.format(service=name)})
        return view

    def open_case(
        self,
        handoff: HandoffView,
        agent_id: str,
        *,
        service: str | None = None,
        summary: str,
        description: str = "",
        priority: str = "normal",
    ) -> CaseReceipt:
        """File a case from the conversation (its channel, linked to it and to the handoff)."""
        conversation = self._conversations.get(handoff.conversation_id)
        draft = CaseDraft(
            tenant_id=handoff.tenant_id,
            service=service or handoff.service,
            channel=conversation.channel if conversation is not None else handoff.channel,
            summary=summary,
            description=description or handoff.summary,
            conversation_id=handoff.conversation_id,
            priority=priority,  # type: ignore[arg-type]
            actor=agent_id,
        )
        receipt = self._gru.file_case(draft)
        view = self.handoffs.attach_case(handoff.tenant_id, handoff.id, receipt.case_id)
        self._console("case_opened", view, case_number=receipt.number)
        return receipt

    def close(
        self, handoff: HandoffView, agent_id: str, resolution: str, case_id: str | None = None
    ) -> HandoffView:
        """End the exchange with a resolution; the resident is asked for a rating."""
        view = self.handoffs.close(handoff.tenant_id, handoff.id, agent_id, resolution, case_id)
        self._console("handoff_closed", view)
        self._resident(view, {"type": "closed", "message": CLOSED, "rating": True})
        return view

    def hand_back(self, handoff: HandoffView, agent_id: str) -> HandoffView:
        """Give the conversation back to the assistant."""
        view = self.handoffs.hand_back(handoff.tenant_id, handoff.id, agent_id)
        self._console("handoff_returned", view)
        self._resident(view, {"type": "handed_back", "message": HANDED_BACK})
        return view

    def service_name(self, tenant_id: str, code: str) -> str:
        """The service's French name in this commune's catalogue (its code if unknown)."""
        entry = self._catalogue.get(tenant_id, code)
        return entry.name if entry is not None else code

    # -- publishing --------------------------------------------------------------------------

    def _console(
        self, kind: str, view: HandoffView, *, also: str | None = None, **details: Any
    ) -> None:
        services = [view.service] + ([also] if also and also != view.service else [])
        event = {
            "type": kind,
            "handoff_id": view.id,
            "conversation_id": view.conversation_id,
            "service": view.service,
            "services": services,
            "status": view.status,
            "priority": view.priority,
            "reason": view.reason,
            "at": utcnow().isoformat(),
            **details,
        }
        self.bus.publish(console_channel(view.tenant_id), event)

    def _resident(self, view: HandoffView, event: dict[str, Any]) -> None:
        self.bus.publish(conversation_channel(view.conversation_id), event)


def message_payload(message: MessageView) -> dict[str, Any]:
    """A stored message as live events carry it."""
    return {
        "id": message.id,
        "role": message.role,
        "content": message.content,
        "created_at": message.created_at.isoformat(),
    }

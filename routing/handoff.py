"""When the assistant hands a conversation to a person, and why (a value, not an exception).

Two moments decide it:

* **before answering** (:func:`handoff_before_answer`), from the resident's words: they ask for a
  person (``resident_request``), complain (``complaint``), or describe distress or an urgent
  social situation (``sensitive``: nowhere to sleep tonight, violence, thoughts of suicide);
* **after answering** (:func:`handoff_after_answer`), from how the turn went: a stage failed
  (``tool_failure``), the assistant failed twice in a row (``repeated_failure``), it found
  nothing for a request the town handles (``missing_knowledge``), or it found nothing and the
  routing was unsure (``low_confidence``). Out-of-scope questions (greetings, recipes) are
  declined without bothering an agent.

Words are matched accent-folded and case-folded, as whole words or phrases. The cue lists are
data a town can extend; each decision names the cue that fired, for the explanation record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from foundation.french import first_cue, fold

HandoffReason = Literal[
    "resident_request",
    "missing_knowledge",
    "low_confidence",
    "complaint",
    "sensitive",
    "repeated_failure",
    "tool_failure",
]
HANDOFF_REASONS: tuple[str, ...] = (
    "resident_request", "missing_knowledge", "low_confidence", "complaint", "sensitive",
    "repeated_failure", "tool_failure",
)  # fmt: skip

#: French labels of the reasons, as agents read them in the console.
REASON_LABELS: dict[str, str] = {
    "resident_request": "Demande de l'usager",
    "missing_knowledge": "Réponse absente de la base de connaissances",
    "low_confidence": "Orientation incertaine",
    "complaint": "Réclamation",
    "sensitive": "Situation sensible ou urgente",
    "repeated_failure": "Échecs répétés de l'assistant",
    "tool_failure": "Incident technique",
}

#: Where distress and urgent social situations go.
SENSITIVE_SERVICE = "action_sociale"

# fmt: off
_ASK_PERSON = (
    "parler a un agent", "parler a un conseiller", "parler a quelqu'un", "parler a une personne",
    "parler a un humain", "un vrai humain", "une vraie personne", "un etre humain",
    "un agent s'il vous plait", "un conseiller s'il vous plait", "mettez-moi en relation",
    "mettre en relation avec", "je veux un agent", "je voudrais un agent", "je veux un humain",
    "joindre un agent", "contacter un agent", "passez-moi quelqu'un", "transferer a un agent",
    "agent humain", "operateur", "operatrice",
)
_COMPLAINT = (
    "je veux me plaindre", "je voudrais me plaindre", "porter reclamation", "faire une reclamation",
    "deposer une reclamation", "je fais une reclamation", "c'est inadmissible", "inadmissible",
    "scandaleux", "c'est une honte", "inacceptable", "je suis mecontent", "je suis mecontente",
    "tres mecontent", "tres mecontente", "plainte contre", "mal accueilli", "mal accueillie",
    "personne ne repond", "toujours pas de reponse", "troisieme fois", "plusieurs fois deja",
)
_SENSITIVE = (
    "nulle part ou dormir", "nulle part ou aller", "pas d'endroit ou dormir", "dormir dehors",
    "dormir dans la rue", "a la rue ce soir", "a la rue avec", "sans abri", "sans domicile",
    "expulse ce soir", "expulsee ce soir", "expulses aujourd'hui", "il me frappe", "elle me frappe",
    "me frappe", "violences conjugales", "violence conjugale", "violences faites aux femmes",
    "battu", "battue", "harcele", "harcelee", "en danger", "suicide", "me suicider",
    "envie de mourir", "je veux mourir", "en finir avec la vie", "maltraitance", "maltraite",
    "maltraitee", "enfant en danger", "plus rien a manger", "rien a manger",
)
# fmt: on


@dataclass(frozen=True)
class HandoffDecision:
    """A handoff to a person.

    Attributes:
        reason: One of :data:`HANDOFF_REASONS`.
        priority: ``urgent`` (distress), ``high`` (complaint, failures) or ``normal``.
        service: The service whose queue receives it, when the decision names one
            (``sensitive`` goes to the CCAS); otherwise the routed service.
        explanation: What fired, for the explanation record.
    """

    reason: str
    priority: str = "normal"
    service: str | None = None
    explanation: dict[str, Any] = field(default_factory=dict)


def handoff_before_answer(text: str) -> HandoffDecision | None:
    """A handoff the resident's words call for at once, or None."""
    folded = fold(text)
    if cue := first_cue(folded, _SENSITIVE):
        return HandoffDecision("sensitive", "urgent", SENSITIVE_SERVICE, {"cue": cue})
    if cue := first_cue(folded, _ASK_PERSON):
        return HandoffDecision("resident_request", "normal", None, {"cue": cue})
    if cue := first_cue(folded, _COMPLAINT):
        return HandoffDecision("complaint", "high", None, {"cue": cue})
    return None


def handoff_after_answer(
    *,
    abstained: bool,
    outcome_reason: str | None,
    previous_failures: int,
    routing_reason: str | None,
) -> HandoffDecision | None:
    """A handoff the turn's outcome calls for, or None.

    Args:
        abstained: The assistant gave no grounded answer.
        outcome_reason: Why (``low_relevance``, ``llm_failure``, ``injection`` ...).
        previous_failures: Consecutive failed assistant turns just before this one.
        routing_reason: The routing decision's reason (``classified``, ``low_confidence``,
            ``out_of_scope`` ...), or None when the turn was not routed.
    """
    if not abstained or outcome_reason == "injection":
        return None
    details = {"outcome": outcome_reason, "previous_failures": previous_failures}
    if outcome_reason in {"llm_failure", "retrieval_failure", "action_failure"}:
        return HandoffDecision("tool_failure", "high", None, details)
    if previous_failures >= 1:
        return HandoffDecision("repeated_failure", "high", None, details)
    if routing_reason == "classified":
        return HandoffDecision("missing_knowledge", "normal", None, details)
    if routing_reason == "low_confidence":
        return HandoffDecision("low_confidence", "normal", None, details)
    return None

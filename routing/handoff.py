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

Residents' words are matched as they write them (words in between, typos, no accents: see
routing/handoff_cues.py). The cue lists are data a town can extend; each decision names the cue
that fired and the words it matched, for the explanation record. When no cue fires and the
request classifier has embedded the message, the nearest labelled example may still call for a
person (:mod:`routing.handoff_semantic`, built by :func:`word_handoff`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from routing.handoff_cues import CueMatcher, cue

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

#: Who a resident asks for, and words that make it someone else (« le conseiller du salarié »,
#: « un agent immobilier », « mon conseiller bancaire »).
_PERSON = (
    "agent|agente|conseiller|conseillere|humain|humaine|personne|quelqu_un|quelquun|operateur|"
    "operatrice|interlocuteur|interlocutrice|responsable|employe|employee|fonctionnaire|"
    "standardiste"
)
# fmt: off
_SOMEONE_ELSE = (
    "salarie", "salaries", "immobilier", "immobiliere", "bancaire", "banque", "assurance", "pole",
    "emploi", "travail", "caf", "fiscal", "police", "recenseur", "municipal", "municipale",
    "numerique", "agee", "agees", "handicape", "handicapee", "territorial", "territoriale",
    "justice", "orientation", "employeur",
)
_POSSESSIVES = ("mon", "ma", "mes", "son", "sa", "ses", "leur", "notre", "votre")
# fmt: on
_ASK = (
    "parler|joindre|contacter|passer|passez|transferer|transferez|discuter|echanger|avoir|voir|"
    "rencontrer|appeler|rappele|rappelee|rappeler|recontacte|recontacter|entretenir"
)
#: Who answers when a resident asks to be put through (« passez-moi la mairie »).
_TOWN_DESK = "mairie|accueil|standard|service|services|secretariat"
#: Someone one can ask for by availability (« un conseiller disponible ? »).
_AVAILABLE_PERSON = (
    "agent|agente|conseiller|conseillere|humain|humaine|quelqu_un|quelquun|operateur|"
    "operatrice|interlocuteur|interlocutrice|responsable|employe|employee"
)
#: Words that make « disponible » about opening hours (« un agent est-il disponible le samedi »).
_WHEN = (
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "matin",
    "soir",
    "weekend",
    "week",
    "heure",
    "heures",
    "jours",
    "midi",
)
#: Indignation, the resident's own words (« c'est insupportable », « je déplore »).
_INDIGNANT = (
    "inadmissible|inacceptable|scandaleux|scandaleuse|scandale|honteux|honteuse|"
    "lamentable|deplorable|intolerable|mecontent|mecontente|mecontents|mecontentement|marre|"
    "insupportable|inadmissibles|inexcusable|revoltant|revoltante|indigne|aberrant|aberrante|"
    "exasperant|exasperante|deplore|deplorons|scandalise|scandalisee|scandalises"
)
#: How a resident says it happened again (« la cinquième fois », « la 5e fois »).
_NTH = (
    "troisieme|quatrieme|cinquieme|sixieme|septieme|huitieme|dixieme|enieme|nieme|plusieurs|"
    "combien|3e|4e|5e|6e|10e|3eme|4eme|5eme|6eme|10eme"
)
#: After « je n'en peux plus de … », what makes it a complaint rather than distress.
_NOT_DISTRESS = (
    "vos",
    "votre",
    "ce",
    "cette",
    "ces",
    "attendre",
    "attente",
    "delai",
    "delais",
    "service",
    "services",
    "mairie",
    "administration",
    "bruit",
    "voisin",
    "voisins",
    "travaux",
)
_WANT = "veux|voudrais|voudrai|souhaite|souhaiterais|aimerais|besoin"
#: Common words one typo away from a cue word: they match only themselves.
# fmt: off
_NOT_TYPOS = (
    "argent", "agence", "agenda", "plante", "trappe", "grappe", "mange", "manger", "danger",
    "contenu", "mare", "marie", "maire", "voile", "site", "vole", "volee", "voles", "volees",
    "voler", "volent", "ouvre", "indique", "dispose", "disposer",
    "livre", "croque",
)
# fmt: on

# fmt: off
#: Tried in order: distress first (it goes to the CCAS, urgently), then a request for a
#: person, then a complaint.
HANDOFF_CUES = CueMatcher((
    # Distress and urgent social situations.
    cue("sensitive", "nulle_part|nul_part|pas_d_endroit|aucun_endroit", "dormir|aller|loger",
        gap=2),
    cue("sensitive", "dormir|dors|dort|dormons|dormi|coucher", "dehors|rue|voiture|parc|gare",
        gap=3),
    cue("sensitive", "suis|sommes|etre|retrouve|retrouvons|retrouver", "dehors", gap=2),
    cue("sensitive", "a_la_rue", "ce_soir|cette_nuit|avec|depuis|aujourd_hui|demain", gap=1),
    cue("sensitive", "met|mettre|mis|mise|jette|jeter|jetee", "dehors|a_la_rue", gap=1),
    cue("sensitive", "sans", "abri|domicile|logement|toit", gap=1),
    cue("sensitive", "n_ai|n_avons", "plus|pas|aucun", "de|d", "logement|toit|domicile|abri"),
    cue("sensitive", "vis|vivons|habite|habitons|loge|logeons", "voiture|tente|squat", gap=2),
    cue("sensitive", "m|me|nous", "a|ont|avez", "menace|menacee|menaces|frappe|frappee|battu|"
        "battue|agresse|agressee|violee|viole"),
    cue("sensitive", "menace|menacee|menaces|menacees|menacent", "de", "mort", gap=1),
    cue("sensitive", "sdf|expulse|expulsee|expulses|expulsees"),
    cue("sensitive", "me|m|nous|les", "frappe|frappent|bat|battent|tape|tapent|cogne|cognent|"
        "menace|menacent|harcele|harcelent|brutalise|violente"),
    cue("sensitive", "suis|est|etre|ete|sommes|sont", "battu|battue|battus|battues|harcele|"
        "harcelee|maltraite|maltraitee|maltraites|menace|menacee|agresse|agressee|violee",
        gap=1),
    cue("sensitive", "violence|violences|harcelement|maltraitance|maltraite|maltraitee|"
        "maltraites|maltraitees|inceste|suicide|suicider|suicidaire|detresse|desespere|"
        "desesperee"),
    cue("sensitive", "en", "danger"),
    cue("sensitive", "envie|veux|vais|voudrais", "mourir|crever|disparaitre", gap=1,
        blockers=("rire", "ennui", "chaud", "froid")),
    cue("sensitive", "veux|vais|envie", "en_finir", gap=2, blockers=("avec",)),
    cue("sensitive", "en_finir", "avec", "la_vie|tout|moi|ma_vie"),
    cue("sensitive", "plus|pas", "vivre", blockers=("dans", "ici", "a", "en", "avec", "chez")),
    cue("sensitive", "rien|pas", "mange", gap=1),
    cue("sensitive", "suis|sommes|etre|vraiment|completement", "a_bout", gap=1,
        blockers=("souffle", "bras", "doigts", "fil", "chemin", "rue")),
    cue("sensitive", "en", "peux|peut|pouvons", "plus", blockers=_NOT_DISTRESS),
    cue("sensitive", "je|j", "craque|craquer", gap=2),
    cue("sensitive", "vais|veux|envie|pense|penser", "me|m", "tuer|suicider|foutre_en_l_air|"
        "pendre", gap=1, blockers=("tache", "travail", "boulot", "rire")),
    cue("sensitive", "rien", "a|de", "manger"),
    # A person, now.
    cue("resident_request", _ASK, _PERSON, gap=3, blockers=_SOMEONE_ELSE,
        blocked_before=_POSSESSIVES),
    cue("resident_request", _WANT, _PERSON, gap=2, blockers=_SOMEONE_ELSE,
        blocked_before=_POSSESSIVES),
    cue("resident_request", "mis|mise|mettre|mettez|met", "en", "relation|contact", gap=1),
    cue("resident_request", "vrai|vraie|veritable|etre", "personne|humain|humaine|agent|"
        "conseiller|conseillere|interlocuteur"),
    cue("resident_request", "agent|agente|conseiller|conseillere|operateur|operatrice|personne|"
        "interlocuteur", "humain|humaine|reelle|reel|physique|vivante"),
    cue("resident_request", "un|une", "humain|humaine|agent|conseiller|conseillere|operateur",
        "svp|stp|s_il|plait|please|merci"),
    cue("resident_request", "personne|agent|conseiller|conseillere|quelqu_un|quelquun",
        "peut|pourrait|pourra|peuvent", "me|m|nous", "rappeler|appeler|contacter|recontacter",
        gap=1, blocked_before=_POSSESSIVES),
    cue("resident_request", "quelqu_un|quelquun", "mairie|services|service|accueil", gap=2),
    cue("resident_request", "passez|passe|transferez|transfere|mettez", "moi|nous", _TOWN_DESK,
        gap=2),
    cue("resident_request", "me|m|nous", "passer|transferer", _TOWN_DESK, gap=2),
    cue("resident_request", _AVAILABLE_PERSON, "disponible|disponibles|dispo|libre", gap=2,
        blockers=_SOMEONE_ELSE + _WHEN, blocked_before=_POSSESSIVES),
    cue("resident_request", "avoir", _PERSON + "|mairie|accueil|standard",
        "au_telephone|au_bout_du_fil|en_ligne|au_tel", gap=2, blockers=_SOMEONE_ELSE,
        blocked_before=_POSSESSIVES),
    # Complaints.
    cue("complaint", "me|m", "plaindre|plains|plaint"),
    cue("complaint", _INDIGNANT),
    # A réclamation is made, not mentioned (« la réclamation de ma voisine a-t-elle été
    # traitée ? » asks where one stands).
    cue("complaint", "faire|deposer|porter|formuler|adresser|envoyer|veux|voudrais|souhaite|"
        "souhaiterais|depose", "reclamation|reclamations", gap=2),
    cue("complaint", "reclamation", "svp|stp|s_il"),
    cue("complaint", "suis|sommes", "choque|choquee|choques|indigne|indignee|indignes|revolte|"
        "revoltee|revoltes|excede|excedee|exaspere|exasperee|ecoeure|ecoeuree", gap=2),
    cue("complaint", "en_peux|en_pouvons", "plus"),
    cue("complaint", "plainte", "contre"),
    cue("complaint", "une|quelle", "honte"),
    cue("complaint", "pas", "content|contente|satisfait|satisfaite", gap=2),
    cue("complaint", "ras", "le", "bol"),
    cue("complaint", "personne", "ne|n", "repond|repondu|rappelle|rappele|decroche", gap=2),
    cue("complaint", "en", "colere"),
    cue("complaint", "moquez|moque|foutez|fichez", "de", "moi|nous|gens|monde", gap=1),
    cue("complaint", "aucune|aucun|pas|sans|jamais", "reponse|retour", gap=2),
    cue("complaint", _NTH, "fois", gap=1),
    cue("complaint", "est", "n_importe", "quoi"),
    cue("complaint", "mal", "accueilli|accueillie|accueillis|recu|recue|recus|traite|traitee|"
        "renseigne|renseignee|parle"),
    cue("complaint", "arrive|reussis|parviens|arrivons", "joindre|contacter|avoir", gap=2),
    cue("complaint", "fait|depuis", "mois|semaines", "attends|attend|attendons", gap=3),
), exact_only=_NOT_TYPOS)
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
    found = HANDOFF_CUES.find(text)
    if found is None:
        return None
    return word_handoff(found.cue.reason, {"cue": found.cue.label, "words": found.words})


def word_handoff(reason: str, explanation: dict[str, Any]) -> HandoffDecision:
    """The handoff for a ``reason`` the resident's words call for (a cue's, or the nearest
    labelled example's: :mod:`routing.handoff_semantic`), with what decided it."""
    if reason == "sensitive":
        return HandoffDecision("sensitive", "urgent", SENSITIVE_SERVICE, explanation)
    priority = "high" if reason == "complaint" else "normal"
    return HandoffDecision(reason, priority, None, explanation)


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
    if outcome_reason in {"llm_failure", "retrieval_failure", "action_failure", "answer_failure"}:
        return HandoffDecision("tool_failure", "high", None, details)
    if previous_failures >= 1:
        return HandoffDecision("repeated_failure", "high", None, details)
    if routing_reason == "classified":
        return HandoffDecision("missing_knowledge", "normal", None, details)
    if routing_reason == "low_confidence":
        return HandoffDecision("low_confidence", "normal", None, details)
    return None

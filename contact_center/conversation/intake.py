"""The case-intake dialogue: what the assistant asks before it files a case, in French.

Pure functions and values, no database: :mod:`contact_center.conversation.actions` keeps the state
in the conversation and files the case. The dialogue is short and always the same, as a resident
would expect from a town-hall desk:

1. a report (« un lampadaire est en panne rue des Lilas ») or an explicit request opens it;
2. the place is asked when the service needs one and the message did not give it;
3. the resident may leave an e-mail address or a mobile number *for the follow-up only*
   (giving it in answer to that question is the consent; « non » files without contact); a
   number said aloud is read from its words (:mod:`foundation.spoken_numbers`) and, on a voice
   channel, read back for a « oui » or a « non » (``phone_confirm``; a « non » asks once more);
4. a recap is confirmed with « oui » (« non » or « annuler » drops everything, at any step).

Intents are recognised from accent-folded words (:func:`is_report`, :func:`asks_case_status`):
a report states a fault or a nuisance without asking how to do something; a question
(« comment… ? », « que faire ? ») gets a grounded answer instead.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from contact_center.gru.tracking_codes import normalise_tracking_code
from foundation.french import first_cue, fold, strip_accents
from foundation.spoken_numbers import read_phone_number

Step = Literal["location", "contact", "phone_confirm", "confirm", "tracking_code"]

#: Services that act on a place: their reports need one.
PLACE_SERVICES = frozenset({"voirie", "proprete_dechets", "tranquillite_publique", "stationnement"})
#: Services a report can go to (another administration's matters cannot become a case here).
REPORTABLE_SERVICES = PLACE_SERVICES | {"urbanisme", "affaires_generales", "action_sociale"}

# fmt: off
_REPORT_CUES = (
    "en panne", "ne marche plus", "ne fonctionne plus", "ne s'allume plus", "s'allume plus",
    "eteint", "casse", "cassee", "casses", "trou", "nid de poule", "nids de poule", "deborde",
    "debordent", "depot sauvage", "depots sauvages", "abandonne", "abandonnes", "abandonnee",
    "tag", "tags", "graffiti", "graffitis", "fuite", "inonde", "inondee", "tombe", "tombee",
    "arrache", "arrachee", "renverse", "renversee", "bouche", "bouchee", "obstrue", "rats",
    "seringue", "seringues", "epave", "ventouse", "degrade", "degradee", "dangereux", "dangereuse",
    "clignote", "n'a pas ete ramasse", "pas ete ramassee", "pas ete collecte", "n'est pas passe",
    "sale", "salete", "crottes", "dechets partout", "encombrants sur", "stationne sur", "gare sur",
    "bloque le", "bloque la", "squat", "tapage",
)
_EXPLICIT_REQUEST = (
    "signaler", "signalement", "je signale", "faire une demande", "deposer une demande",
    "ouvrir une demande", "transmettre au service", "je voudrais que la mairie",
    "intervention de la mairie",
)
_QUESTION_STARTS = (
    "comment", "quel", "quelle", "quels", "quelles", "quand", "ou ", "combien", "pourquoi",
    "est-ce", "est ce", "puis-je", "puis je", "peut-on", "peut on", "dois-je", "faut-il",
    "a quelle", "qui ", "que ", "qu'est",
)
_QUESTION_CUES = (
    "que faire", "que dois-je", "comment faire", "est-il possible", "ai-je le droit",
)
_STATUS_CUES = (
    "ou en est ma demande", "ou en est mon signalement", "ou en est ma reclamation",
    "suivi de ma demande", "suivre ma demande", "etat de ma demande", "avancement de ma demande",
    "code de suivi", "numero de suivi", "ma demande a-t-elle", "ma demande est-elle",
    "des nouvelles de ma demande", "reponse a ma demande", "statut de ma demande",
)
_URGENT_CUES = (
    "gaz", "incendie", "au feu", "blesse", "blessee", "danger immediat", "electrocute",
    "fils electriques a nu", "fil electrique a nu", "effondre", "effondree", "menace de tomber",
)
_CANCEL = (
    "annuler", "annule", "laisse tomber", "laissez tomber", "stop", "abandonner", "rien",
)
_YES = (
    "oui", "ok", "d'accord", "daccord", "je confirme", "confirme", "vas-y", "allez-y", "exact",
)
_NO = (
    "non", "pas besoin", "sans", "aucun", "je ne souhaite pas", "non merci", "pas de",
)
# fmt: on

_STREET = (
    r"rue|avenue|av\.|boulevard|bd|place|allee|chemin|impasse|quai|square|route|cours|passage"
    r"|parc|rond-point|rond point|sentier|parking|residence|cite|carrefour|angle|pont|gare|ecole"
    r"|mairie|marche|stade|piscine|jardin|cimetiere|esplanade|promenade|villa|hameau|lotissement"
)
_PLACE_RE = re.compile(
    r"(?:\b(?:devant|pres d[eu]|au niveau d[eu]|en face d[eu]|a l'angle d[eu]|au|aux|a la|dans la"
    r"|dans le|sur la|sur le|du|de la|des)\s+)?(?:\b(?:l'|la |le |les ))?"
    r"(?:\d{1,4}\s*(?:bis|ter)?,?\s+)?"
    rf"\b(?:{_STREET})\b[^.,?!;\n]{{0,60}}",
)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_RE = re.compile(r"(?:(?:\+|00)33[ .-]?(?:\(0\))?[ .-]?|\b0)[1-9](?:[ .-]?\d{2}){4}\b")


def _has_any(folded: str, cues: tuple[str, ...]) -> bool:
    return first_cue(folded, cues) is not None


def is_question(text: str) -> bool:
    """True when the resident asks how or what (then a grounded answer fits better)."""
    folded = fold(text)
    return (
        folded.startswith(_QUESTION_STARTS)
        or _has_any(folded, _QUESTION_CUES)
        or (folded.endswith("?") and not _has_any(folded, _EXPLICIT_REQUEST))
    )


def is_report(text: str, service: str) -> bool:
    """True when ``text`` reports something the town must act on, or asks to file a request."""
    if service not in REPORTABLE_SERVICES:
        return False
    folded = fold(text)
    if _has_any(folded, _EXPLICIT_REQUEST):
        return True
    return service in PLACE_SERVICES and _has_any(folded, _REPORT_CUES) and not is_question(text)


def is_urgent(text: str) -> bool:
    """True when the message suggests an immediate danger (emergency numbers come first)."""
    return _has_any(fold(text), _URGENT_CUES)


def asks_case_status(text: str) -> bool:
    """True for « où en est ma demande ? » and the like."""
    return _has_any(fold(text), _STATUS_CUES)


def find_place(text: str) -> str | None:
    """The place named in ``text`` (« 12 rue des Lilas », « devant l'école Jules-Ferry »)."""
    # Fold character by character so that the match's span is valid in the original text.
    folded = "".join((strip_accents(c) or c)[:1] for c in text.replace("’", "'")).lower()
    match = _PLACE_RE.search(folded)
    if match is None:
        return None
    start, end = match.span()
    return text[start:end].strip(" ,")


def find_contact(text: str) -> tuple[str | None, str | None]:
    """The e-mail address and the phone number given in ``text``, if any.

    A number written in digits is kept as written; one said in words (« zéro six douze… », as
    the voice channels' speech-to-text may write it) comes back in pairs (« 06 12 34 56 78 »).
    """
    email = _EMAIL_RE.search(text)
    written = _PHONE_RE.search(text)
    phone = written.group(0) if written else read_phone_number(text).number
    return (email.group(0) if email else None, phone)


def is_cancel(text: str) -> bool:
    """True when the resident drops the request."""
    return _has_any(fold(text), _CANCEL) and len(fold(text)) < 40


def is_yes(text: str) -> bool:
    """True for a confirmation."""
    folded = fold(text).strip(" .!")
    return _has_any(folded, _YES) and not _has_any(folded, ("non", "pas"))


def is_no(text: str) -> bool:
    """True for a refusal."""
    return _has_any(fold(text).strip(" .!"), _NO)


def summarise(text: str, limit: int = 120) -> str:
    """A one-line summary of the resident's words for the case title."""
    line = " ".join(text.split())
    first = re.split(r"(?<=[.!?])\s", line, maxsplit=1)[0]
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


@dataclass
class IntakeState:
    """A case being collected in a conversation (kept as JSON in the conversation)."""

    step: Step
    service: str = ""
    description: str = ""
    location: str | None = None
    email: str | None = None
    phone: str | None = None
    priority: str = "normal"
    retries: int = 0
    #: « non » answers to the number read back (voice channels): one more try, then none.
    phone_checks: int = 0
    routing: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The state as stored in the conversation."""
        return {"kind": "intake", **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> IntakeState | None:
        """The stored state, or None when there is none (or it is of another kind)."""
        if not data or data.get("kind") != "intake":
            return None
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**fields)


_CODE_RE = re.compile(
    r"(?<![\w-])([0-9A-Za-z]{4})([\s.-]?)([0-9A-Za-z]{4})([\s.-]?)([0-9A-Za-z]{2})(?![\w-])"
)


def find_tracking_code(text: str, *, whole_message: bool = False) -> str | None:
    """The tracking code written in ``text`` (« ABCD-EFGH-JK », « abcdefghjk »), canonical.

    A ten-letter word (« lampadaire ») has the shape of a code: a candidate counts only when it
    is written with dashes or dots, or holds a digit, or (``whole_message``, when the assistant
    has just asked for the code) is the whole message. Groups separated by spaces (« né en 1985
    dans la… ») count only where the message speaks of a code or of following a request.
    """
    whole = normalise_tracking_code(text.strip(" .!?")) if whole_message else None
    if whole is not None:
        return whole
    about_a_code = whole_message or asks_case_status(text) or "code" in fold(text)
    for match in _CODE_RE.finditer(text):
        raw = match.group(0)
        spaced = any(sep.isspace() for sep in (match.group(2), match.group(4)) if sep)
        if spaced and not about_a_code:
            continue
        written_as_code = match.group(2) in {"-", "."} or any(c.isdigit() for c in raw)
        code = normalise_tracking_code(raw)
        if written_as_code and code is not None:
            return code
    return None

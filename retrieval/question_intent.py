"""What a resident's question asks for, read from their own words, and the cues that answer it.

:func:`read_question` tells the *intent* (a cost, a place, the papers to bring, a delay, who is
entitled, how to proceed) and the *case* the resident is in (a child, an adult, someone born
abroad). The extractive composer (:mod:`retrieval.extractive`) then scores the sentences of the
official text with the cues of :mod:`retrieval.answer_cues`. :func:`expand` adds the official
words for the residents' own (« papiers » -> « pièces justificatives »).

Everything works on folded text (lower case, no accents, straight apostrophes), so « coûte »,
« coute » and « COÛTE » read the same. Rules, not a model: they cost microseconds and say why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from foundation.french import fold

Intent = Literal["cost", "place", "documents", "delay", "hours", "eligibility", "procedure"]
Case = Literal["under_15", "minor", "adult", "born_abroad", "abroad"]


def any_of(*patterns: str) -> re.Pattern[str]:
    """One pattern matching any of ``patterns``."""
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# Intents in the order they are tested: « combien de temps » is a delay before « combien » is a
# cost; « quels papiers » is documents before « quel service » is a place; « à quelle heure »
# and « ouvert le dimanche » ask for opening hours or days before anything else.
_DAY = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|week-end|jours? feries?)s?"
_INTENT_WORDS: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        "hours",
        any_of(
            r"\ba quelle heure\b",
            r"\bjusqu'a quelle heure\b",
            r"\bhoraires?\b",
            r"\bheures? d'ouverture\b",
            r"\bouverte?s? (?:le |les |ce |en )?" + _DAY,
            r"\bfermee?s? (?:le |les |ce |en )?" + _DAY,
            r"\bquels? jours?\b",
            r"\bc'est ouvert\b",
            r"\best ouverte?\b",
            r"\bouvre\b",
            r"\bferme a\b",
            r"\bpasse (?:la|le|les) (?:poubelles?|camion|benne|collecte)\b",
        ),
    ),
    (
        "eligibility",
        any_of(
            r"\bqui peut\b",
            r"\bqui doit\b",
            r"\bai-je (?:le )?droit\b",
            r"\bai je (?:le )?droit\b",
            r"\ba-t-on (?:le )?droit\b",
            r"\bdroit a\b",
            r"\ba quel age\b",
            r"\bqui a le droit\b",
        ),
    ),
    (
        "delay",
        any_of(
            r"\bcombien de (?:temps|jours|semaines|mois)\b",
            r"\bdelais?\b",
            r"\ben combien de\b",
            r"\bdans combien\b",
            r"\bquand\b",
            r"\bdans quel delai\b",
            r"\bjusqu'a quand\b",
            r"\bau bout de combien\b",
            r"\bca prend (?:combien|du temps)\b",
            r"\bvalable combien\b",
            r"\bdure combien\b",
        ),
    ),
    (
        "cost",
        any_of(
            r"\bcombien\b",
            r"\bprix\b",
            r"\btarifs?\b",
            r"\bgratuite?s?\b",
            r"\bpayant",
            r"\bpayer\b",
            r"\bcoute",
            r"\bcout\b",
            r"\bfrais\b",
            r"\bcher\b",
            r"\bmontant\b",
            r"\btimbre\b",
        ),
    ),
    (
        "documents",
        any_of(
            r"\bquels? papiers?\b",
            r"\bquoi comme papiers?\b",
            r"\bquelle photo\b",
            r"\bcomme (?:papiers?|documents?|pieces?)\b",
            r"\bjustificatifs?\b",
            r"\bpieces?\b",
            r"\bquels? documents?\b",
            r"\bapporter\b",
            r"\bfournir\b",
            r"\bdossier\b",
            r"\bil faut quoi\b",
        ),
    ),
    (
        "place",
        any_of(
            r"\bou (?:faire|aller|jeter|deposer|trouver|se trouve|s'adresser|je|j'|on|il faut|"
            r"dois|doit|puis|peut|peux|est|sont)\b",
            r"\bou\s*\?",
            r"\b(?:vais|va|aller|allez) ou\b",
            r"\ba qui\b",
            r"\bquel service\b",
            r"\bquel bureau\b",
            r"\bquel guichet\b",
            r"\bm'adresser\b",
            r"\bs'adresser\b",
            r"\bquelle adresse\b",
            r"\b(?:quelle est|c'est quoi|donner|connaitre|trouver) l'adresse\b",
            r"\badresse (?:de la|du|des|de l') ?(?:mairie|hotel de ville|service|decheterie|"
            r"dechetterie|police|ccas|poste|ecole|creche|mediatheque|piscine|cimetiere)",
            r"\bjeter\b",
            r"\bdeposer\b",
            r"\ben ligne\b",
            r"\ba la mairie\b",
        ),
    ),
    (
        "eligibility",
        any_of(
            r"\ba droit\b",
            r"\ble droit\b",
            r"\bpuis-je\b",
            r"\best-ce que je peux\b",
            r"\best ce que je peux\b",
            r"\bje peux\b",
            r"\bobligatoire\b",
            r"\bfaut-il\b",
            r"\bfaut il\b",
            r"\bje dois\b",
            r"\bautorise\b",
            r"\bpossible\b",
        ),
    ),
    (
        "procedure",
        any_of(
            r"\bcomment\b",
            r"\bque faire\b",
            r"\bquoi faire\b",
            r"\bje fais quoi\b",
            r"\ben fais quoi\b",
            r"\bdemarches?\b",
            r"\bprocedure\b",
        ),
    ),
)

_STRONG_ELIGIBILITY = next(p for name, p in _INTENT_WORDS if name == "eligibility")
_WHERE = re.compile(r"(?:^|\W)où\b", re.IGNORECASE)
_AGE = re.compile(r"\b(\d{1,2}) ?ans\b")
_CASE_WORDS: tuple[tuple[Case, re.Pattern[str]], ...] = (
    ("born_abroad", any_of(r"\bnee? a l'etranger\b", r"\bnee? hors de france\b")),
    ("abroad", any_of(r"\bj'habite a l'etranger\b", r"\bje vis a l'etranger\b", r"\bconsulat\b")),
    (
        "under_15",
        any_of(r"\bbebes?\b", r"\bnourrisson\b", r"\bnouveau-ne\b", r"\bpetite? (?:fils|fille)\b"),
    ),
    (
        "minor",
        any_of(
            r"\bmineure?s?\b",
            r"\benfants?\b",
            r"\bmon fils\b",
            r"\bma fille\b",
            r"\bados?\b",
            r"\badolescente?\b",
            r"\bmes fils\b",
            r"\bmes filles\b",
        ),
    ),
    ("adult", any_of(r"\bmajeure?s?\b", r"\badultes?\b")),
)


#: Residents' words and the words of the official text for the same thing (folded): a
#: question about « papiers » is answered by the sentence about « pièces justificatives ».
RESIDENT_WORDS: dict[str, str] = {
    "papiers": "pieces documents justificatifs",
    "papier": "piece document justificatif",
    "paume": "perdu perte",
    "perdu": "perte",
    "vole": "vol",
    "volee": "vol",
    "frigo": "refrigerateur electromenager appareil",
    "jeter": "deposer dechetterie collecte",
    "bebe": "enfant naissance mineur",
    "fils": "enfant mineur",
    "fille": "enfant mineure",
    "chercher": "retirer retrait",
    "recuperer": "retirer retrait",
    "refaire": "renouvellement nouvelle",
    "coute": "cout prix tarif",
    "prix": "cout tarif",
    "payant": "gratuit cout",
    "mort": "deces",
    "mourir": "deces",
    "decede": "deces",
    "voter": "electorale",
    "ville": "commune mairie",
    "temps": "delai duree",
    "valable": "validite",
    # French stemming parts a verb from its noun: « se pacser » / « PACS », « ouvre » /
    # « ouverture », « ferment » / « fermeture ».
    "pacser": "pacs",
    "pacse": "pacs",
    "pacses": "pacs",
    "ouvre": "ouverture ouverte horaires",
    "ouvert": "ouverture horaires",
    "ouverte": "ouverture horaires",
    "ferme": "fermeture horaires",
    "ferment": "fermeture horaires",
    "heure": "horaires",
    "matelas": "encombrants",
    "armoire": "encombrants",
    "canape": "encombrants",
}


def expand(question: str) -> str:
    """``question`` followed by the official words for the residents' words it uses
    (« paumé » -> « paumé perdu perte »)."""
    extra = [RESIDENT_WORDS[word] for word in re.findall(r"[a-z]+", fold(question))
             if word in RESIDENT_WORDS]  # fmt: skip
    return " ".join((question, *extra))


@dataclass(frozen=True)
class QuestionReading:
    """What a question asks for.

    Attributes:
        intent: The kind of answer wanted; ``procedure`` when the words say nothing more.
        cases: The resident's situation(s) named in the question, e.g. ``("under_15",
            "minor")`` for a baby; empty when none is named.
    """

    intent: Intent
    cases: tuple[Case, ...] = ()


def read_question(question: str) -> QuestionReading:
    """Read the intent and the case of ``question`` from the resident's words.

    « où » is a place only with its accent or in a place phrase (« ou faire », « ou jeter »):
    folded, it reads like « ou » (« fond blanc ou pas »).
    """
    folded = fold(question)
    intent: Intent = next(
        (name for name, pattern in _INTENT_WORDS if pattern.search(folded)), "procedure"
    )
    strong_eligibility = _STRONG_ELIGIBILITY.search(folded)
    if (
        intent in ("eligibility", "procedure")
        and not strong_eligibility
        and _WHERE.search(question)
    ):
        intent = "place"
    return QuestionReading(intent, _cases(folded))


def named_intent(question: str) -> Intent | None:
    """The intent ``question`` names in words, or None when it names none (« et pour un
    enfant ? »), where :func:`read_question` would fall back to ``procedure``."""
    folded = fold(question)
    if any(pattern.search(folded) for _, pattern in _INTENT_WORDS) or _WHERE.search(question):
        return read_question(question).intent
    return None


def _cases(folded: str) -> tuple[Case, ...]:
    cases = [name for name, pattern in _CASE_WORDS if pattern.search(folded)]
    age = _AGE.search(folded)
    if age:
        years = int(age.group(1))
        cases.append("adult" if years >= 18 else "minor")
        if years < 15:
            cases.append("under_15")
    if "under_15" in cases and "minor" not in cases:
        cases.append("minor")
    if "adult" in cases and "minor" in cases:  # « mon fils majeur »: the adult wins
        cases = [case for case in cases if case not in ("minor", "under_15")]
    return tuple(dict.fromkeys(cases))

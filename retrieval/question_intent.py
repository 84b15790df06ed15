"""What a resident's question asks for, read from their own words, and the cues that answer it.

:func:`read_question` tells the *intent* (a cost, a place, the papers to bring, a delay, who is
entitled, how to proceed) and the *case* the resident is in (a child, an adult, someone born
abroad). The extractive composer (:mod:`retrieval.extractive`) then scores the sentences of the
official text with :func:`intent_cue` and :func:`case_weight`: a cost question wants the sentence
with the amount, a place question the one naming the mairie or the online service, and a
question about a baby the passage headed « Avant 15 ans » rather than « À partir de 18 ans ».

Everything works on folded text (lower case, no accents, straight apostrophes), so « coûte »,
« coute » and « COÛTE » read the same. Rules, not a model: they cost microseconds and say why.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Intent = Literal["cost", "place", "documents", "delay", "eligibility", "procedure"]
Case = Literal["under_15", "minor", "adult", "born_abroad", "abroad"]


def fold(text: str) -> str:
    """Lower case, accents removed, straight apostrophes, single spaces."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("ʼ", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().split())


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# Intents in the order they are tested: « combien de temps » is a delay before « combien » is a
# cost; « quels papiers » is documents before « quel service » is a place.
_INTENT_WORDS: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        "eligibility",
        _any(
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
        _any(
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
        _any(
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
        _any(
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
        _any(
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
            r"\bjeter\b",
            r"\bdeposer\b",
            r"\ben ligne\b",
            r"\ba la mairie\b",
        ),
    ),
    (
        "eligibility",
        _any(
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
        _any(
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

#: Words of the official text that answer each intent.
_CUES: dict[Intent, re.Pattern[str]] = {
    "cost": _any(
        r"\d[\d  ]*(?:,\d+)?\s?(?:€|euros?)",
        r"\bgratuite?s?\b",
        r"\bgratuitement\b",
        r"\bpayante?s?\b",
        r"\btimbre fiscal\b",
        r"\btarifs?\b",
        r"\bprix\b",
        r"\bcoute",
        r"\bfrais\b",
    ),
    "place": _any(
        r"\bmairies?\b",
        r"\ben ligne\b",
        r"\bguichet\b",
        r"\bprefecture\b",
        r"\bcommissariat\b",
        r"\bgendarmerie\b",
        r"\bconsulat\b",
        r"\bdecheteries?\b",
        r"\bdechetteries?\b",
        r"\bpoint de collecte\b",
        r"\breprise\b",
        r"\bdistributeur\b",
        r"\bvendeur\b",
        r"\bencombrants\b",
        r"\bhotel de ville\b",
        r"\bs'adresser\b",
        r"\badressez-vous\b",
        r"\baupres d",
        r"\bsur rendez-vous\b",
        r"\bnotaire\b",
        r"\bservice\b",
        r"\bants\b",
    ),
    "documents": _any(
        r"\bfactures?\b",
        r"\bquittance\b",
        r"\bavis d'imposition\b",
        r"\bcertificat\b",
        r"\btitre de propriete\b",
        r"\bjustificatifs?\b",
        r"\bpieces?\b",
        r"\bphotos?\b",
        r"\bactes? de\b",
        r"\bcopie\b",
        r"\bformulaire\b",
        r"\bcerfa\b",
        r"\bfournir\b",
        r"\bpresenter\b",
        r"\bdocuments?\b",
        r"\btimbre fiscal\b",
        r"\bcarte d'identite\b",
        r"\bpasseport\b",
        r"\blivret de famille\b",
        r"\battestation\b",
        r"\bdeclaration de (?:perte|vol)\b",
        r"\bpre-demande\b",
    ),
    "delay": _any(
        r"\b\d+\s*(?:jours?|semaines?|mois|heures?|h)\b",
        r"\b(?:un|une|deux|trois|cinq|huit|quinze|dix) (?:jours?|semaines?|mois|heures?)\b",
        r"\b(?:valable|validite|pendant|duree)\b[^.]{0,30}\b\d+ ans?\b",
        r"\bdelais?\b",
        r"\bau plus tard\b",
        r"\bimmediatement\b",
        r"\bduree\b",
        r"\bvalable\b",
        r"\bvalidite\b",
    ),
    "eligibility": _any(
        r"\b(?:declaree?s?|faite?s?|effectuee?s?|demandee?s?|reserve?e?s?) (?:par|a|aux)\b",
        r"\bindigente?s?\b",
        r"\bsi vous\b",
        r"\bvous pouvez\b",
        r"\bpeut\b",
        r"\bpeuvent\b",
        r"\bdroit\b",
        r"\bconditions?\b",
        r"\bmajeure?s?\b",
        r"\bmineure?s?\b",
        r"\bnationalite\b",
        r"\bobligatoire\b",
        r"\binterdite?s?\b",
        r"\bautorisee?s?\b",
        r"\bdoit\b",
        r"\bvous devez\b",
    ),
    "procedure": _any(
        r"\bvous devez\b",
        r"\bil faut\b",
        r"\bse rendre\b",
        r"\bcommissariat\b",
        r"\bgendarmerie\b",
        r"\bfaire (?:une|la|votre) demande\b",
        r"\bdemande\b",
        r"\bdeclar",
        r"\badressez-vous\b",
        r"\brendez-vous\b",
        r"\ben ligne\b",
        r"\bpre-demande\b",
        r"\bremplir\b",
        r"\benvoy",
        r"\bdepos",
        r"\bcontact",
        r"\bmairie\b",
    ),
}

_WHERE = re.compile(r"(?:^|\W)où\b", re.IGNORECASE)
_AGE = re.compile(r"\b(\d{1,2}) ?ans\b")
_CASE_WORDS: tuple[tuple[Case, re.Pattern[str]], ...] = (
    ("born_abroad", _any(r"\bnee? a l'etranger\b", r"\bnee? hors de france\b")),
    ("abroad", _any(r"\bj'habite a l'etranger\b", r"\bje vis a l'etranger\b", r"\bconsulat\b")),
    (
        "under_15",
        _any(r"\bbebes?\b", r"\bnourrisson\b", r"\bnouveau-ne\b", r"\bpetite? (?:fils|fille)\b"),
    ),
    (
        "minor",
        _any(
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
    ("adult", _any(r"\bmajeure?s?\b", r"\badultes?\b")),
)

#: How a passage heading or sentence says which case it covers.
_CASE_TEXT: dict[Case, re.Pattern[str]] = {
    "under_15": _any(r"\bmoins de 15 ans\b", r"\bavant 15 ans\b"),
    "minor": _any(
        r"\bmineure?s?\b",
        r"\bmoins de 1[58] ans\b",
        r"\bavant 1[58] ans\b",
        r"\bentre 1[0-7] et 1[0-7] ans\b",
        r"\benfants?\b",
    ),
    "adult": _any(
        r"\bmajeure?s?\b", r"\ba partir de 18 ans\b", r"\bplus de 18 ans\b", r"\badultes?\b"
    ),
    "born_abroad": _any(r"\bne(?:e|\(e\))? (?:a l'etranger|hors de france)"),
    "abroad": _any(
        r"\ba l'etranger\b",
        r"\bhors de france\b",
        r"\bconsulat\b",
        r"\boutre-mer\b",
        r"\(dom\)",
        r"\bguadeloupe\b",
        r"\bguyane\b",
        r"\bmartinique\b",
        r"\bmayotte\b",
        r"\ba la reunion\b",
        r"\bnouvelle-caledonie\b",
        r"\bpolynesie\b",
    ),
}
#: Cases that exclude each other: a passage for one is wrong for the other.
_CONFLICTS: dict[Case, tuple[Case, ...]] = {
    "under_15": ("adult",),
    "minor": ("adult",),
    "adult": ("minor", "under_15"),
    "born_abroad": (),
    "abroad": (),
}
_BETWEEN_15_17 = re.compile(r"\bentre 15 et 17 ans\b|\b15, 16 ou 17 ans\b")


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
    strong_eligibility = _INTENT_WORDS[0][1].search(folded)
    if (
        intent in ("eligibility", "procedure")
        and not strong_eligibility
        and _WHERE.search(question)
    ):
        intent = "place"
    return QuestionReading(intent, _cases(folded))


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


def names_a_case(text: str) -> bool:
    """Whether ``text`` (folded), typically a heading, names a situation: an age, abroad..."""
    return any(pattern.search(text) for pattern in _CASE_TEXT.values())


#: The cue that *is* the answer: an amount for a cost, a duration for a delay.
_STRONG_CUES: dict[Intent, re.Pattern[str]] = {
    "documents": re.compile(r"\b(?:pieces|documents|justificatifs) (?:a fournir|a presenter)\b"),
    "cost": re.compile(r"\d\s?(?:€|euros?\b)|\bgratuite?s?\b"),
    "delay": re.compile(
        r"(?<!moins de )(?<!plus de )\b\d+\s*(?:jours?|semaines?|mois|heures?|h)\b"
        r"|\b(?:valable|validite|duree)\b[^.]{0,30}\d"
    ),
}


def intent_cue(text: str, intent: Intent) -> float:
    """0..1: how much ``text`` (folded) carries what ``intent`` asks for; the fact itself (an
    amount for a cost, a duration for a delay) counts fully on its own."""
    strong = _STRONG_CUES.get(intent)
    if strong is not None and strong.search(text):
        return 1.0
    hits = len(_CUES[intent].findall(text))
    return min(hits, 2) / 2


def case_weight(text: str, cases: tuple[Case, ...]) -> float:
    """How well a passage's headings and sentence (folded) fit the resident's case: a factor
    around 1, above when the text names the resident's case, well below when it names a
    conflicting one (an adult's price for a baby) or a place the resident did not mention
    (overseas, abroad). When the question names no case, the particular situations (a minor)
    weigh a little less, so that the general case comes first.
    """
    named = {case for case, pattern in _CASE_TEXT.items() if pattern.search(text)}
    if "under_15" in cases and _BETWEEN_15_17.search(text):
        named.add("adult")  # for a baby, « entre 15 et 17 ans » is as wrong as an adult's case
        named.discard("minor")
    weight = 1.0
    if named & set(cases):
        weight *= 1.25 if "under_15" not in named & set(cases) else 1.4
    if any(conflict in named for case in cases for conflict in _CONFLICTS[case]):
        weight *= 0.4
    if "abroad" in named and not {"abroad", "born_abroad"} & set(cases):
        weight *= 0.5
    if not cases and named & {"minor", "under_15", "born_abroad"}:
        weight *= 0.7
    return weight

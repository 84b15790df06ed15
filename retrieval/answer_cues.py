"""What in the official text answers a question: the cues of each intent and case.

A cost question wants the sentence with the amount, a place question the one naming the mairie
or the online service, a documents question the items of the « Pièces à fournir » list, and a
question about a baby the passage headed « Avant 15 ans » rather than « À partir de 18 ans ».
:func:`intent_cue` and :func:`case_weight` score a sentence (with its headings) for the
:class:`~retrieval.question_intent.QuestionReading` of the question; everything is folded text
(:func:`~retrieval.question_intent.fold`).
"""

from __future__ import annotations

import re

from retrieval.question_intent import Case, Intent, any_of

#: A month's name, folded (« 31 mars », « 1er aout »).
_MONTHS = (
    r"(?:janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre)\b"
)

#: Words of the official text that answer each intent.
_CUES: dict[Intent, re.Pattern[str]] = {
    "cost": any_of(
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
    "place": any_of(
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
        r"\b\d+(?: bis| ter)?,? (?:rue|place|avenue|boulevard|allee|chemin|quai|square)\b",
    ),
    "documents": any_of(
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
    "delay": any_of(
        r"\b\d+\s*(?:jours?|semaines?|mois|heures?|h)\b",
        r"\b(?:un|une|deux|trois|cinq|huit|quinze|dix) (?:jours?|semaines?|mois|heures?)\b",
        r"\b(?:valable|validite|pendant|duree)\b[^.]{0,30}\b\d+ ans?\b",
        r"\bdelais?\b",
        r"\bau plus tard\b",
        r"\bimmediatement\b",
        r"\bduree\b",
        r"\bvalable\b",
        r"\bvalidite\b",
        r"\b\d{1,2}(?:er)? " + _MONTHS,
    ),
    "hours": any_of(
        r"\b\d{1,2}\s?h\s?\d{0,2}\b",
        r"\b(?:lundis?|mardis?|mercredis?|jeudis?|vendredis?|samedis?|dimanches?)\b",
        r"\bhoraires?\b",
        r"\bouverte?s?\b",
        r"\bfermee?s?\b",
        r"\bjours? feries?\b",
        r"\btous les jours\b",
    ),
    "eligibility": any_of(
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
    "procedure": any_of(
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

#: How a passage heading or sentence says which case it covers.
_CASE_TEXT: dict[Case, re.Pattern[str]] = {
    "under_15": any_of(r"\bmoins de 15 ans\b", r"\bavant 15 ans\b"),
    "minor": any_of(
        r"\bmineure?s?\b",
        r"\bmoins de 1[58] ans\b",
        r"\bavant 1[58] ans\b",
        r"\bentre 1[0-7] et 1[0-7] ans\b",
        r"\benfants?\b",
    ),
    "adult": any_of(
        r"\bmajeure?s?\b", r"\ba partir de 18 ans\b", r"\bplus de 18 ans\b", r"\badultes?\b"
    ),
    "born_abroad": any_of(r"\bne(?:e|\(e\))? (?:a l'etranger|hors de france)"),
    "abroad": any_of(
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


def names_a_case(text: str) -> bool:
    """Whether ``text`` (folded), typically a heading, names a situation: an age, abroad..."""
    return any(pattern.search(text) for pattern in _CASE_TEXT.values())


#: The cue that *is* the answer: an amount for a cost, a duration for a delay.
_STRONG_CUES: dict[Intent, re.Pattern[str]] = {
    "documents": re.compile(r"\b(?:pieces|documents|justificatifs) (?:a fournir|a presenter)\b"),
    "cost": re.compile(r"\d\s?(?:€|euros?\b)|\bgratuite?s?\b"),
    "hours": re.compile(
        r"\b\d{1,2}\s?h\s?\d{0,2}\b[^.]{0,40}\b\d{1,2}\s?h\b"
        r"|\b(?:lundis?|mardis?|mercredis?|jeudis?|vendredis?|samedis?|dimanches?)\b[^.]{0,60}"
        r"\b\d{1,2}\s?h\b"
    ),
    "delay": re.compile(
        r"(?<!moins de )(?<!plus de )\b\d+\s*(?:jours?|semaines?|mois|heures?|h)\b"
        r"|\b(?:valable|validite|duree)\b[^.]{0,30}\d"
        # a deadline (« jusqu'à quand ? » : « du 15 janvier au 31 mars », « avant le 1er mai »)
        r"|\b(?:au|avant le|jusqu'au) \d{1,2}(?:er)? " + _MONTHS
    ),
}


#: Stems of the question's words that ask for a value (« heure », « combien », « coûte »),
#: folded: a text that states a value of that kind (:data:`_STRONG_CUES`) answers them.
_ASKING_STEMS: dict[Intent, re.Pattern[str]] = {
    "hours": re.compile(r"^(?:heur|horair|ouvr|ouvert|ferm|quand)"),
    "delay": re.compile(r"^(?:combien|temp|del|dur|long|quand|valabl)"),
    "cost": re.compile(r"^(?:combien|cout|prix|pai|pay|tarif|cher|gratuit|frai|montant)"),
}


def answered_by_value(intent: Intent, stems: set[str], text: str) -> set[str]:
    """The ``stems`` (folded) that ask for the value ``intent`` wants, when ``text`` (folded)
    states such a value: « ferment à quelle heure » is answered by « de 8 h à 19 h », « combien
    de temps » by « 2 mois », « ça coûte combien » by « 17 € », in words the question did not
    use. Empty for the intents that ask for no value (a place, a procedure)."""
    asking = _ASKING_STEMS.get(intent)
    if asking is None:
        return set()
    asked = {stem for stem in stems if asking.match(stem)}
    return asked if asked and _STRONG_CUES[intent].search(text) else set()


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

"""Redaction of personal data before anything is stored in records or written to logs.

Covers what residents commonly type or say: e-mail addresses, French phone numbers (also
with spaces, dots, dashes or +33), the social security number (NIR), IBANs and payment card
numbers. Each is replaced by a bracketed French label so records stay readable for agents.

Phone numbers spoken aloud reach the records as words (« zéro six douze trente-quatre
cinquante-six soixante-dix-huit », from the voice channels' speech-to-text), possibly mixed
with digits: :func:`redact` reads runs of French number words, and a run that spells nine
digits or more starting with « zéro » (or « plus trente-trois ») is a phone number too.
"""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("[COURRIEL]", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)),
    (
        "[IBAN]",
        re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b", re.I),
    ),
    (
        "[NIR]",
        re.compile(
            r"\b[12][ .]?\d{2}[ .]?(?:0[1-9]|1[0-2]|[2-9]\d)[ .]?(?:\d{2}|2[AB])"
            r"[ .]?\d{3}[ .]?\d{3}(?:[ .]?\d{2})?\b",
            re.I,
        ),
    ),
    ("[CARTE_BANCAIRE]", re.compile(r"\b(?:\d{4}[ -]?){3}\d{4}\b")),
    (
        "[TÉLÉPHONE]",
        re.compile(r"(?:(?:\+|00)33[ .-]?(?:\(0\))?[ .-]?|\b0)[1-9](?:[ .-]?\d{2}){4}\b"),
    ),
)


_NUMBER_WORDS = {
    "zéro": 0,
    "zero": 0,
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
    "vingt": 20,
    "vingts": 20,
    "trente": 30,
    "quarante": 40,
    "cinquante": 50,
    "soixante": 60,
}
_WORD = (
    r"(?:zéro|zero|une?|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|"
    r"quatorze|quinze|seize|vingts?|trente|quarante|cinquante|soixante|et|\d{1,2})"
)
_SPOKEN_RUN = re.compile(
    rf"(?:\bplus\s+trente[- ]trois\b[\s,.-]*)?\b{_WORD}(?:[\s,.-]+{_WORD}\b|-{_WORD}\b)+",
    re.IGNORECASE,
)


def _spoken_digits(run: str) -> str:
    """The digits a run of number words spells, group by group (« zéro six douze » -> "0612")."""
    groups: list[int] = []
    for word in re.findall(r"[\wé]+", run.lower()):
        value = int(word) if word.isdigit() else _NUMBER_WORDS.get(word)
        if value is None:  # « et », « plus »
            continue
        last = groups[-1] if groups else None
        if (
            last in (20, 30, 40, 50)
            and 1 <= value <= 9
            or (
                last in (60, 80) and 1 <= value <= 19  # soixante-dix-sept, quatre-vingt-douze
            )
        ):
            groups[-1] += value
        elif last == 4 and value == 20:
            groups[-1] = 80
        else:
            groups.append(value)
    return "".join(str(group) for group in groups)


def _spoken_phone(match: re.Match[str]) -> str:
    run = match[0]
    digits = _spoken_digits(run)
    starts = re.match(r"\s*(zéro|zero|0|plus)", run, re.IGNORECASE) is not None
    if run.lower().startswith("plus"):
        digits = "0" + digits.removeprefix("33")
    return "[TÉLÉPHONE]" if starts and len(digits) >= 9 else run


def redact(text: str) -> str:
    """Replace personal data in ``text`` by labels such as ``[COURRIEL]``.

    Args:
        text: Free text typed or spoken by a resident.

    Returns:
        The text with e-mails, phone numbers, NIR, IBAN and card numbers replaced.
    """
    for label, pattern in _PATTERNS:
        text = pattern.sub(label, text)
    return _SPOKEN_RUN.sub(_spoken_phone, text)


def contains_personal_data(text: str) -> bool:
    """True when :func:`redact` would change ``text``."""
    return redact(text) != text

"""Redaction of personal data before anything is stored in records or written to logs.

Covers what residents commonly type or say: e-mail addresses, French phone numbers (also
with spaces, dots, dashes or +33), the social security number (NIR), IBANs and payment card
numbers. Each is replaced by a bracketed French label so records stay readable for agents.

Phone numbers spoken aloud reach the records as words (« zéro six douze trente-quatre
cinquante-six soixante-dix-huit », from the voice channels' speech-to-text), possibly mixed
with digits: :func:`redact` reads runs of French number words with
:func:`foundation.spoken_numbers.spoken_runs` (the parser the voice channels' intake uses), and a
run that spells six digits or more starting with « zéro » (or « plus trente-trois ») is a phone
number too, whole or not (a caller who gives a number with a pair missing is asked again, and
the fragment stays out of the records).
"""

from __future__ import annotations

import re

from foundation.spoken_numbers import ATTEMPT_DIGITS, spoken_runs

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


def _redact_spoken(text: str) -> str:
    """``text`` with each run of numbers that spells a phone number, whole or in part (six
    digits or more, starting with « zéro » or « plus »), replaced by its label."""
    out, last = [], 0
    for run in spoken_runs(text):
        phone_like = run.groups[0] == "+" or run.digits.startswith("0")
        if phone_like and len(run.digits) >= ATTEMPT_DIGITS:
            out.append(text[last : run.start] + "[TÉLÉPHONE]")
            last = run.end
    return "".join(out) + text[last:]


def redact(text: str) -> str:
    """Replace personal data in ``text`` by labels such as ``[COURRIEL]``.

    Args:
        text: Free text typed or spoken by a resident.

    Returns:
        The text with e-mails, phone numbers, NIR, IBAN and card numbers replaced.
    """
    for label, pattern in _PATTERNS:
        text = pattern.sub(label, text)
    return _redact_spoken(text)


def contains_personal_data(text: str) -> bool:
    """True when :func:`redact` would change ``text``."""
    return redact(text) != text

"""Are the figures of an answer those of the official text?

:func:`numbers_faithful` checks that every number an answer states (an amount, a duration, a
date, a time, a phone number, any other figure) appears in the passages it was grounded on.
The extractive answer passes by construction; the LLM's refinement must pass too, or be
refused: a resident told « 68 € » instead of « 86 € » goes to the counter with the wrong stamp.

Figures are compared in a normal form, so the same fact written two ways matches:
« 86 € », « 86 euros » and « 86,00 € »; « 01 99 00 20 10 » and « 01.99.00.20.10 »;
« 24 h » and « 24 heures »; « 18h45 » and « 18 h 45 »; « 1er mars 2025 » and « 01/03/2025 »;
« cinq jours » and « 5 jours ». Citations ``[n]`` are not figures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from foundation.french import fold
from retrieval.types import Chunk, ScoredChunk

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("janvier", "janv"),
            ("fevrier", "fevr", "fev"),
            ("mars",),
            ("avril", "avr"),
            ("mai",),
            ("juin",),
            ("juillet", "juil"),
            ("aout",),
            ("septembre", "sept"),
            ("octobre", "oct"),
            ("novembre", "nov"),
            ("decembre", "dec"),
        ),
        start=1,
    )
    for name in names
}
_WORD_NUMBERS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "quinze": 15, "vingt": 20,
    "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "cent": 100,
}  # fmt: skip
_UNITS = {
    "jour": "jour", "jours": "jour", "semaine": "semaine", "semaines": "semaine",
    "mois": "mois", "an": "an", "ans": "an", "annee": "an", "annees": "an",
    "heure": "h", "heures": "h", "h": "h", "minute": "min", "minutes": "min", "min": "min",
}  # fmt: skip

_CITATION = re.compile(r"\[\s*\d{1,3}(?:\s*[,;\-–]\s*\d{1,3})*\s*\]")
_PHONE = re.compile(
    r"(?<![\d])(?:\+33\s?|0)[1-9](?:[\s.\-]?\d{2}){4}(?![\d])|(?<![\d])3\d{3}(?=\s*\(|\s*$)"
)
_DATE_NUMERIC = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")
_DATE_WORDS = re.compile(
    r"\b(\d{1,2})(?:er)?\s+("
    + "|".join(sorted(_MONTHS, key=len, reverse=True))
    + r")\.?(?:\s+(\d{4}))?\b"
)
_TIME = re.compile(r"\b(\d{1,2})\s?h\s?(\d{2})\b")
_NUMBER = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?"
_AMOUNT = re.compile(rf"({_NUMBER})\s?(?:€|euros?\b|eur\b)")
_WORD_NUMBER = "|".join(_WORD_NUMBERS)
_DURATION = re.compile(
    rf"\b({_NUMBER}|{_WORD_NUMBER})\s?(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\b"
)
_BARE = re.compile(rf"(?<![\w,.])({_NUMBER})(?:er|e|eme)?\b")


@dataclass(frozen=True)
class Figure:
    """A figure in normal form: ``kind`` (amount, duration, date, time, phone, number) and
    ``value`` (``86``, ``5 jour``, ``2025-03-01``...), with the text it was read from."""

    kind: str
    value: str
    text: str


def _number(text: str) -> str:
    """``"1 500,00"`` -> ``"1500"``; ``"44,50"`` -> ``"44.5"``; ``"cinq"`` -> ``"5"``."""
    if text in _WORD_NUMBERS:
        return str(_WORD_NUMBERS[text])
    compact = re.sub(r"[ \u00a0\u202f]", "", text).replace(",", ".")
    value = float(compact)
    return str(int(value)) if value == int(value) else f"{value:g}"


def _date(day: str, month: int, year: str | None) -> str:
    return f"{year or '*'}-{month:02d}-{int(day):02d}"


def extract_figures(text: str) -> list[Figure]:
    """The figures stated in ``text``, each read once (a phone number is not five numbers)."""
    folded = _CITATION.sub(" ", fold(text))
    figures: list[Figure] = []
    readers: tuple[tuple[re.Pattern[str], str], ...] = (
        (_PHONE, "phone"),
        (_DATE_NUMERIC, "date"),
        (_DATE_WORDS, "date"),
        (_TIME, "time"),
        (_AMOUNT, "amount"),
        (_DURATION, "duration"),
        (_BARE, "number"),
    )
    for pattern, kind in readers:

        def read(match: re.Match[str], kind: str = kind) -> str:
            figures.append(Figure(kind, _value(kind, match), match.group(0)))
            return " " * len(match.group(0))  # consumed: the later readers do not see it

        folded = pattern.sub(read, folded)
    return figures


def _value(kind: str, match: re.Match[str]) -> str:
    if kind == "phone":
        digits = re.sub(r"\D", "", match.group(0))
        return "0" + digits[2:] if digits.startswith("33") and len(digits) == 11 else digits
    if kind == "date" and match.re is _DATE_NUMERIC:
        return _date(match.group(1), int(match.group(2)), match.group(3))
    if kind == "date":
        return _date(match.group(1), _MONTHS[match.group(2)], match.group(3))
    if kind == "time":
        return f"{int(match.group(1))}:{match.group(2)}"
    if kind == "duration":
        return f"{_number(match.group(1))} {_UNITS[match.group(2)]}"
    return _number(match.group(1))


def unfaithful_figures(answer: str, passages: Iterable[str | Chunk | ScoredChunk]) -> list[Figure]:
    """The figures of ``answer`` that no passage states (in the same normal form)."""
    known = [f for passage in passages for f in extract_figures(_passage_text(passage))]
    exact = {(f.kind, f.value) for f in known}
    values = {f.value for f in known}
    dates = {f.value for f in known if f.kind == "date"}
    missing = []
    for figure in extract_figures(answer):
        if (figure.kind, figure.value) in exact:
            continue
        if figure.kind == "number" and (figure.value in values or _in_a_figure(figure, known)):
            continue  # « 86 » alone, the amount of a table whose header says « en € »
        if figure.kind == "amount" and (("number", figure.value) in exact):
            continue
        if figure.kind == "date" and _same_date(figure.value, dates):
            continue
        missing.append(figure)
    return missing


def numbers_faithful(answer: str, passages: Sequence[str | Chunk | ScoredChunk]) -> bool:
    """Whether every number, amount, date, duration or phone number of ``answer`` appears in
    ``passages`` (texts, chunks or search hits; titles and headings count)."""
    return not unfaithful_figures(answer, passages)


def _passage_text(passage: str | Chunk | ScoredChunk) -> str:
    if isinstance(passage, str):
        return passage
    chunk = passage.chunk if isinstance(passage, ScoredChunk) else passage
    return "\n".join((chunk.title, *chunk.heading_path, chunk.text))


def _in_a_figure(figure: Figure, known: list[Figure]) -> bool:
    """A bare number that is part of a known figure: the « 45 » of « 18 h 45 », a year."""
    return any(
        re.search(rf"(?<!\d){re.escape(figure.value)}(?!\d)", f.value.replace("-", " "))
        for f in known
        if f.kind in ("time", "date", "duration", "amount")
    )


def _same_date(value: str, dates: set[str]) -> bool:
    """« 1er mars » matches « 1er mars 2025 » (and the other way round)."""
    year, month_day = value.split("-", 1)
    return any(
        known.split("-", 1)[1] == month_day and "*" in (year, known.split("-", 1)[0])
        for known in dates
    )

"""Numbers said aloud in French, read back into digits: above all, a phone number.

A caller says a number the French way, in pairs (« zéro six, douze, trente-quatre,
cinquante-six, soixante-dix-huit »), digit by digit (« zéro six un deux trois… »), with the
international prefix (« plus trente-trois six… »), and speech-to-text writes it in words, in
digits or in both (« 06 12 trente-quatre 56 78 »). This module reads such text:

- :func:`spoken_runs` finds each run of numbers (words or digits) with its place in the text and
  the digits it spells, group by group: the compound tens are read as one group (« soixante-dix »
  70, « soixante et onze » 71, « quatre-vingt(s) » 80, « quatre-vingt-dix-sept » 97, « vingt et
  un » 21), hyphenated or not; a comma or a full stop (a pause) ends a compound, so « vingt,
  deux » is 20 then 2.
- :func:`read_phone_number` gives the French number such a text holds (a run of exactly ten
  digits, « 0 » then not « 0 »; ``+33``/``0033`` then nine digits, written back with « 0 »), or
  says how many digits were heard when a run is not a whole number, so the caller can be asked
  again.
- :func:`write_phone_numbers` rewrites each spoken phone number as it is written
  (« 06 12 34 56 78 »), leaving every other word as it was.

Pure functions over text: the voice channels, the case intake and the redaction of records
share them (this ground floor imports nothing of theirs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from foundation.french import fold

# fmt: off
_UNITS = {
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13,
    "quatorze": 14, "quinze": 15, "seize": 16,
}
_TENS = {
    "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
}
# fmt: on
#: Hesitations speech-to-text writes inside a number (« zéro six, euh, douze… »).
_FILLERS = frozenset({"euh", "heu", "hum"})
#: Fewest digits for a run to be taken as an attempt at a phone number.
ATTEMPT_DIGITS = 6

_TOKEN = re.compile(r"\+|\d+|[^\W\d_]+")
_PAUSE = re.compile(r"[,.;:!?…]")


@dataclass(frozen=True)
class _Token:
    word: str  # folded word, digits, or "+"
    start: int
    end: int
    pause: bool  # a comma or full stop between this token and the one before


@dataclass(frozen=True)
class SpokenRun:
    """A run of numbers in a text.

    Attributes:
        start: Where the run begins in the text.
        end: Where it ends (exclusive).
        groups: The numbers said, in order, each as its digits (« zéro six douze » gives
            ``("0", "6", "12")``; a written « 06 » stays ``"06"``). ``"+"`` marks « plus ».
    """

    start: int
    end: int
    groups: tuple[str, ...]

    @property
    def digits(self) -> str:
        """Every digit of the run, in order (« + » left out)."""
        return "".join(g for g in self.groups if g != "+")


@dataclass(frozen=True)
class PhoneReading:
    """What a text says of a phone number.

    Attributes:
        number: The French number written in pairs (« 06 12 34 56 78 »), or None.
        heard_digits: When no whole number was said but a run of at least
            :data:`ATTEMPT_DIGITS` digits was (or one starting with « zéro » or « plus »):
            how many digits it spelled (the caller is then asked again). 0 otherwise.
    """

    number: str | None
    heard_digits: int = 0


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    previous_end = 0
    for match in _TOKEN.finditer(text):
        gap = text[previous_end : match.start()]
        found.append(_Token(fold(match[0]), match.start(), match.end(), bool(_PAUSE.search(gap))))
        previous_end = match.end()
    return found


def _is_number(token: _Token) -> bool:
    return token.word.isdigit() or token.word in _UNITS or token.word in _TENS


def _in_run(tokens: list[_Token], i: int) -> bool:
    """True when token ``i`` can belong to a run (a number, or « et » / « plus » / a filler
    followed by a number)."""
    token = tokens[i]
    if _is_number(token):
        return True
    if token.word in {"et", "plus", "+"} or token.word in _FILLERS:
        return i + 1 < len(tokens) and _in_run(tokens, i + 1)
    return False


class _Reader:
    """Reads the groups of one run, compound tens included."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def _peek(self, words: set[str] | dict[str, int], *, joined: bool = True) -> str | None:
        if self.i >= len(self.tokens):
            return None
        token = self.tokens[self.i]
        if joined and token.pause:
            return None
        return token.word if token.word in words else None

    def _take(self, words: set[str] | dict[str, int]) -> str | None:
        word = self._peek(words)
        if word is not None:
            self.i += 1
        return word

    def _tail(self, highest: int, *, after_et: set[str]) -> int:
        """The units after a ten (« -deux », « et un », « -dix-sept » under 60 and 80)."""
        if self._peek({"et"}) and self.i + 1 < len(self.tokens):
            following = self.tokens[self.i + 1]
            if following.word in after_et and not following.pause:
                self.i += 2
                return _UNITS[following.word]
        if highest >= 19 and self._take({"dix"}):
            seventeen = self._take({"sept", "huit", "neuf"})
            return 10 + (_UNITS[seventeen] if seventeen else 0)
        units = {w: v for w, v in _UNITS.items() if 1 <= v <= highest and w != "dix"}
        word = self._take(units)
        return _UNITS[word] if word else 0

    def groups(self) -> list[tuple[str, int, int]]:
        """Each group's digits with where it begins and ends in the text."""
        out: list[tuple[str, int, int]] = []
        while self.i < len(self.tokens):
            first = self.tokens[self.i]
            word = first.word
            self.i += 1
            if word.isdigit():
                group = word
            elif word in {"plus", "+"}:
                group = "+"
            elif word in _TENS or word in _UNITS:
                group = str(self._compound(word))
            else:
                continue  # « et » or a filler left alone
            out.append((group, first.start, self.tokens[self.i - 1].end))
        return out

    def _compound(self, word: str) -> int:
        if word == "quatre" and self._take({"vingt", "vingts"}):
            return 80 + self._tail(19, after_et=set())
        if word in _TENS:
            value = _TENS[word]
            if value == 60:
                return 60 + self._tail(19, after_et={"un", "onze"})
            return value + self._tail(9, after_et={"un", "une"})
        if word == "dix":
            seventeen = self._take({"sept", "huit", "neuf"})
            return 10 + (_UNITS[seventeen] if seventeen else 0)
        return _UNITS[word]


def spoken_runs(text: str) -> list[SpokenRun]:
    """The runs of numbers, said or written, in ``text`` (see the module docstring).

    >>> [r.groups for r in spoken_runs("zéro six, soixante et onze et quatre-vingts")]
    [('0', '6', '71', '80')]
    """
    tokens = _tokens(text)
    runs: list[SpokenRun] = []
    i = 0
    while i < len(tokens):
        if not _in_run(tokens, i):
            i += 1
            continue
        j = i
        while j < len(tokens) and _in_run(tokens, j) and (j == i or not _starts_anew(tokens, j)):
            j += 1
        read = _Reader(tokens[i:j]).groups()
        if read:
            groups = tuple(group for group, _, _ in read)
            runs.append(SpokenRun(read[0][1], read[-1][2], groups))
        i = j
    return runs


def _starts_anew(tokens: list[_Token], j: int) -> bool:
    """« plus » inside a run starts another one (« deux plus trois »... is no phone number)."""
    return tokens[j].word in {"plus", "+"}


def _national(digits: str) -> str | None:
    for prefix in ("+33", "0033"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 9:
            digits = "0" + digits[len(prefix) :]
            break
    if len(digits) == 10 and digits[0] == "0" and digits[1] != "0" and digits.isdigit():
        return digits
    return None


def _pairs(digits: str) -> str:
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def _phone_run(run: SpokenRun) -> str | None:
    """The number ``run`` spells, written in pairs, when the whole run is one.

    A run with digits to spare (« zéro six douze trente-quatre cinquante-six soixante-dix-huit
    quatre-vingt-dix » is twelve digits) is no number: which ten were meant is anyone's guess.
    """
    digits = _national("".join(run.groups))
    return _pairs(digits) if digits is not None else None


def read_phone_number(text: str) -> PhoneReading:
    """The French phone number said or written in ``text`` (see :class:`PhoneReading`).

    >>> read_phone_number("zéro six douze trente-quatre cinquante-six soixante-dix-huit")
    PhoneReading(number='06 12 34 56 78', heard_digits=0)
    >>> read_phone_number("zéro six douze trente-quatre")
    PhoneReading(number=None, heard_digits=6)
    """
    heard = 0
    for run in spoken_runs(text):
        number = _phone_run(run)
        if number is not None:
            return PhoneReading(number)
        attempt = len(run.digits) >= ATTEMPT_DIGITS or run.groups[0] in {"0", "+"}
        if attempt and len(run.digits) >= 2:
            heard = max(heard, len(run.digits))
    return PhoneReading(None, heard)


def write_phone_numbers(text: str) -> str:
    """``text`` with each phone number said in words written in digits (« 06 12 34 56 78 »).

    Only runs that spell a whole French number change; « j'ai deux enfants » stays.

    >>> write_phone_numbers("c'est le zéro six, douze, 34, cinquante-six, 78 merci")
    "c'est le 06 12 34 56 78 merci"
    """
    out, last = [], 0
    for run in spoken_runs(text):
        number = _phone_run(run)
        if number is None:
            continue
        out.append(text[last : run.start] + number)
        last = run.end
    return "".join(out) + text[last:]

"""Written French answers turned into what a French listener expects to hear.

The answers are written for the screen: « 25,50 € », « le 14/07/2025 », « de 8 h 30 à 12 h »,
« M. le Maire », « 01 99 00 10 01 », citations « [1] », Markdown and links. A synthesiser
reads those badly (espeak-ng says « vingt-cinq virgule cinquante euro »), so
:func:`speakable` rewrites them in words: « vingt-cinq euros cinquante », « le quatorze
juillet deux mille vingt-cinq », « de huit heures trente à midi », « Monsieur le Maire »,
« zéro un, quatre-vingt-dix-neuf, zéro zéro, dix, zéro un ».

:class:`SentenceChunker` cuts the streamed answer into sentences so that the first one is
spoken as soon as it is complete.
"""

from __future__ import annotations

import re

_UNITS = (
    "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze "
    "seize dix-sept dix-huit dix-neuf"
).split()
_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}
MONTHS = (
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
).split()


def _below_100(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    if tens in (7, 9):  # soixante-dix, quatre-vingt-dix ...
        base = "soixante" if tens == 7 else "quatre-vingt"
        if tens == 7 and unit == 1:
            return "soixante et onze"
        return f"{base}-{_UNITS[10 + unit]}"
    if tens == 8:
        return "quatre-vingts" if unit == 0 else f"quatre-vingt-{_UNITS[unit]}"
    if unit == 0:
        return _TENS[tens]
    if unit == 1:
        return f"{_TENS[tens]} et un"
    return f"{_TENS[tens]}-{_UNITS[unit]}"


def _below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    if hundreds == 0:
        return _below_100(rest)
    head = "cent" if hundreds == 1 else f"{_UNITS[hundreds]} cent"
    if rest == 0:
        return head + ("s" if hundreds > 1 else "")
    return f"{head} {_below_100(rest)}"


def number_words(n: int) -> str:
    """A whole number in French words (1990 rules, spaces between groups)."""
    if n < 0:
        return "moins " + number_words(-n)
    if n < 1000:
        return _below_1000(n)
    for size, name in ((10**9, "milliard"), (10**6, "million"), (1000, "mille")):
        if n >= size:
            head, rest = divmod(n, size)
            if size == 1000:
                words = "mille" if head == 1 else f"{number_words(head)} mille"
                words = words.replace("cents mille", "cent mille")
            else:
                words = f"{number_words(head)} {name}{'s' if head > 1 else ''}"
            words = words.replace("quatre-vingts mille", "quatre-vingt mille")
            return words if rest == 0 else f"{words} {number_words(rest)}"
    raise AssertionError("unreachable")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def phone_words(number: str) -> str:
    """A French phone number read in pairs: « zéro un, quatre-vingt-dix-neuf, ... »."""
    digits = _digits(number)
    if digits.startswith("33") and len(digits) == 11:
        digits = "0" + digits[2:]
    if len(digits) != 10:
        return " ".join(_UNITS[int(d)] for d in digits)
    pairs = [digits[i : i + 2] for i in range(0, 10, 2)]
    words = [("zéro " + _UNITS[int(p[1])]) if p[0] == "0" else _below_100(int(p)) for p in pairs]
    return ", ".join(words)


def _amount(match: re.Match[str]) -> str:
    euros = int(_digits(match["euros"]))
    cents = int((match["cents"] or "0").ljust(2, "0")[:2])
    words = f"{number_words(euros)} euro{'s' if euros > 1 else ''}"
    if euros in (10**6, 10**9):
        words = words.replace("euros", "d'euros")
    return words if cents == 0 else f"{words} {number_words(cents)}"


def _date(match: re.Match[str]) -> str:
    day, month, year = int(match["d"]), int(match["m"]), match["y"]
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return match[0]
    words = f"{'premier' if day == 1 else number_words(day)} {MONTHS[month - 1]}"
    return f"{words} {number_words(int(year))}" if year else words


def _time(match: re.Match[str]) -> str:
    hours, minutes = int(match["h"]), int(match["min"] or 0)
    if hours > 24 or minutes > 59:
        return match[0]
    if hours == 12 and not minutes:
        return "midi"
    if hours in (0, 24) and not minutes:
        return "minuit"
    spoken = number_words(hours)
    if hours in (1, 21):
        spoken = spoken.removesuffix("un") + "une"
    words = f"{spoken} heure{'s' if hours > 1 else ''}"
    return f"{words} {number_words(minutes)}" if minutes else words


ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    (r"\bM\.(?=\s)", "Monsieur"),
    (r"\bMme\b", "Madame"),
    (r"\bMlle\b", "Mademoiselle"),
    (r"\bn[°º]\s*", "numéro "),
    (r"\bN[°º]\s*", "numéro "),
    (r"\betc\.", "et cetera"),
    (r"\bcf\.", "voir"),
    (r"\bp\.\s?ex\.", "par exemple"),
    (r"\bRDV\b", "rendez-vous"),
    (r"\bCNI\b", "carte nationale d'identité"),
    (r"\bPACS\b", "pacs"),
    (r"\bCCAS\b", "C C A S"),
    (r"\bav\.(?=\s)", "avenue"),
    (r"\bbd\b\.?", "boulevard"),
    (r"\bh\b(?=\s|$)", "heures"),
    (r"\bmin\b", "minutes"),
    (r"\bkm\b", "kilomètres"),
    (r"\s?%", " pour cent"),
    (r"\s?€", " euros"),
    (r"&", " et "),
)
_ABBREVIATIONS = tuple((re.compile(p), r) for p, r in ABBREVIATIONS)

_CITATION = re.compile(r"\s?\[\d+(?:\s*,\s*\d+)*\]")
_URL = re.compile(r"https?://\S+|www\.\S+")
_MARKDOWN = re.compile(r"[*_`#>]+")
_PHONE = re.compile(r"(?:(?:\+|00)33[ .-]?(?:\(0\))?[ .-]?|\b0)[1-9](?:[ .-]?\d{2}){4}\b")
_AMOUNT = re.compile(
    r"(?P<euros>\d{1,3}(?:[ \u202f\u00a0.]\d{3})+|\d+)(?:,(?P<cents>\d{1,2}))?\s?(?:€|euros?\b)"
)
_DATE = re.compile(r"\b(?P<d>\d{1,2})/(?P<m>\d{1,2})(?:/(?P<y>\d{4}))?\b")
_TIME = re.compile(r"\b(?P<h>\d{1,2})\s?h\s?(?P<min>\d{2})?\b")
_ORDINAL = re.compile(r"\b1(?:er|re)\b")
_ORDINAL_N = re.compile(r"\b(\d+)e\b")
_DECIMAL = re.compile(r"\b(\d+),(\d+)\b")
_NUMBER = re.compile(r"\d{1,3}(?:[ \u202f\u00a0]\d{3})+(?!\d)|\d+")


def _ordinal(n: int) -> str:
    word = number_words(n)
    if word.endswith("cinq"):
        return word + "uième"
    if word.endswith("neuf"):
        return word[:-1] + "vième"
    return word.rstrip("e") + "ième"


def speakable(text: str) -> str:
    """``text`` rewritten for a French synthesiser (see the module docstring)."""
    text = _URL.sub("le site indiqué", text)
    text = _CITATION.sub("", text)
    text = _MARKDOWN.sub("", text)
    text = _PHONE.sub(lambda m: phone_words(m[0]), text)
    text = _AMOUNT.sub(_amount, text)
    text = _DATE.sub(_date, text)
    text = _TIME.sub(_time, text)
    text = _ORDINAL.sub("premier", text)
    text = re.sub(r"\b1(?:er|re) ", "premier ", text)
    text = _ORDINAL_N.sub(lambda m: _ordinal(int(m[1])), text)
    text = _DECIMAL.sub(
        lambda m: f"{number_words(int(m[1]))} virgule {number_words(int(m[2]))}", text
    )
    for pattern, replacement in _ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    text = _NUMBER.sub(lambda m: number_words(int(_digits(m[0]))), text)
    return " ".join(text.split())


_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+|\n+")
_NOT_AN_END = re.compile(r"(?:\bM|\bMme|\betc|\bcf|\bex|\bav|\bn°|\d)\.$")


class SentenceChunker:
    """Cuts streamed text into sentences as soon as each is complete.

    A sentence ends at ``. ! ? … : ;`` followed by white space, or at a line break; « M. »,
    « etc. » and the dot of « 1. » do not end one. Very long sentences are cut at a comma
    after ``max_chars`` so that speech starts early.
    """

    def __init__(self, *, max_chars: int = 220) -> None:
        self._buffer = ""
        self.max_chars = max_chars

    def feed(self, delta: str) -> list[str]:
        """Add streamed text; returns the sentences it completed."""
        self._buffer += delta
        out: list[str] = []
        start = 0
        for match in _SENTENCE_END.finditer(self._buffer):
            candidate = self._buffer[start : match.start()].strip()
            if _NOT_AN_END.search(candidate) and "\n" not in match[0]:
                continue
            if candidate:
                out.append(candidate)
            start = match.end()
        self._buffer = self._buffer[start:]
        if len(self._buffer) > self.max_chars and "," in self._buffer[self.max_chars // 2 :]:
            cut = self._buffer.rindex(",") + 1
            out.append(self._buffer[:cut].strip())
            self._buffer = self._buffer[cut:]
        return out

    def flush(self) -> list[str]:
        """The rest of the text once the stream ended."""
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []

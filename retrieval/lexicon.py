"""Residents' words to the official texts' words: the question a search actually sends.

Residents write « un frigo cassé à jeter » or « les voisins font du bruit la nuit »; the fiches
say « électroménager », « encombrants », « nuisances sonores ». :class:`ResidentLexicon` reads
rules ``words residents say => words of the official texts`` (the shipped
``resident_words.txt``, then a town's own file) and :meth:`ResidentLexicon.expand` returns the
official words a question calls for. The hybrid search adds them to the BM25 query at a lower
weight than the resident's own words, and counts a resident's word as found in a passage when
one of its official words is there (:mod:`retrieval.hybrid`). No model, no network: a town
edits a text file.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from foundation.errors import ConfigurationError
from foundation.french import strip_accents

logger = logging.getLogger(__name__)

#: The rules shipped with the product.
SHIPPED = Path(__file__).with_name("resident_words.txt")

_WORD_RE = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Rule:
    """One line of a lexicon: what residents say, and the official words it calls for."""

    said: tuple[str, ...]
    official: tuple[str, ...]


@dataclass(frozen=True)
class Expansion:
    """What a question called for: the official words, and which resident word called each."""

    #: Official words and expressions to add to the search, in rule order, without repeats.
    words: tuple[str, ...]
    #: Each matched resident expression with the official words its rule gives.
    matched: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def text(self) -> str:
        """The added words as one text (what the explanation record shows)."""
        return ", ".join(self.words)

    def __bool__(self) -> bool:
        return bool(self.words)


def _normal(text: str) -> str:
    """Lowercase, no accents, words separated by single spaces (« Lave-linge » -> lave linge)."""
    return " ".join(_WORD_RE.findall(strip_accents(text.lower()).replace("’", "'")))


def parse_rules(text: str, *, source: str) -> list[Rule]:
    """The rules of one lexicon file.

    Raises:
        ConfigurationError: A line is not ``words => words``, naming the file and line.
    """
    rules: list[Rule] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        said, arrow, official = line.partition("=>")
        left = tuple(w.strip() for w in said.split(",") if w.strip())
        right = tuple(w.strip() for w in official.split(",") if w.strip())
        if not arrow or not left or not right:
            raise ConfigurationError(
                f"{source}, line {number}: expected « words residents say => official words », "
                f"got {line!r}"
            )
        rules.append(Rule(left, right))
    return rules


class ResidentLexicon:
    """The rules in force: the shipped ones, then the town's (which may add to them).

    Args:
        rules: The rules, in order.
    """

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self._patterns = [
            (
                rule,
                re.compile(
                    r"\b(?:"
                    + "|".join(re.escape(_normal(said)) for said in rule.said if _normal(said))
                    + r")\b"
                ),
            )
            for rule in rules
        ]

    @classmethod
    def load(cls, town_file: Path | None = None, *, shipped: bool = True) -> ResidentLexicon:
        """The shipped rules (unless ``shipped`` is False) followed by a town's file's.

        Raises:
            ConfigurationError: The town's file is missing or malformed.
        """
        rules = parse_rules(SHIPPED.read_text("utf-8"), source=SHIPPED.name) if shipped else []
        if town_file is not None:
            try:
                text = Path(town_file).read_text("utf-8")
            except OSError as exc:
                raise ConfigurationError(f"lexicon file {town_file} unreadable: {exc}") from exc
            rules += parse_rules(text, source=str(town_file))
        logger.info("resident lexicon rules=%d town_file=%s", len(rules), town_file)
        return cls(rules)

    def expand(self, question: str) -> Expansion:
        """The official words the question calls for (none when no rule applies)."""
        normal = _normal(question)
        words: dict[str, None] = {}
        matched: list[tuple[str, tuple[str, ...]]] = []
        for rule, pattern in self._patterns:
            found = pattern.search(normal)
            if found is None:
                continue
            official = [_normal(word) for word in rule.official]
            if any(re.search(rf"\b{re.escape(word)}\b", normal) for word in official if word):
                continue  # the question already names it (« papiers pour la carte d'identité »)
            matched.append((found.group(0), rule.official))
            for word in rule.official:
                words.setdefault(word, None)
        return Expansion(tuple(words), tuple(matched))


@lru_cache(maxsize=4)
def shipped_lexicon(town_file: Path | None = None) -> ResidentLexicon:
    """The lexicon for these settings, read once per process."""
    return ResidentLexicon.load(town_file)

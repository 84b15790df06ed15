"""Residents' words that call for a person: a request for one, a complaint, distress.

Residents do not write the cue lists' phrases: « passez-moi un conseiller humain svp »,
« jveux parler a un agnet », « quelqu'un de la mairie ». So a cue here is not a phrase but a
short sequence of *slots* matched on the message's folded words (no accents, no case; split at
apostrophes, so « quelqu'un » is ``quelqu_un`` and « quelquun » a word of its own):

* each slot lists its alternative words (« parler|joindre|contacter »), or a few words in a row
  (« mis_en_relation »);
* up to ``gap`` other words may stand between two slots (« parler **à un** agent »);
* a word also matches with a typo: one edit for words of 5 letters or more, two from 9, the
  first letter kept (« agnet », « conseiler », « mecontant »). A word that is itself in the
  vocabulary, or a common word next to one (« argent » beside « agent »), matches only itself;
* a cue may list *blockers*: words that, just after it or between its slots, make it about
  someone else (« le conseiller **du salarié** », « un agent **immobilier** », « le conseiller
  **numérique** est-il disponible », « **mon** conseiller bancaire »),
  and a match within two words after a negation (« je ne veux **pas** parler à un agent ») does
  not count.

No model: it is fast, explainable (the decision names the cue and the words it matched) and a
town can read and extend the lists. Measured by bench/bench_handoff.py (precision and recall
per reason, false and missed handoffs) on eval/data/handoff_requests.jsonl and
eval/data/handoff_requests_heldout.jsonl, which the lists were tuned on, and on
eval/data/handoff_requests_heldout2.jsonl, which they were not (keep it so).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from foundation.french import words

#: Words a match may not follow closely (« je ne veux pas parler à un agent »).
NEGATIONS = frozenset({"pas", "jamais", "sans", "aucun", "aucune"})


@dataclass(frozen=True)
class Cue:
    """One way residents say it.

    Attributes:
        reason: The handoff reason it signals (``resident_request``, ``complaint``,
            ``sensitive``).
        slots: The slots in order, each ``"a|b|c_d"`` (``_`` joins words that follow each other).
        gap: How many other words may stand between two slots.
        blockers: Words that, between its slots or within :attr:`block_window` words after the
            match, cancel it.
        block_window: How far after the match a blocker counts.
        blocked_before: Words that cancel it just before its last word (« **mon** conseiller »).
    """

    reason: str
    slots: tuple[str, ...]
    gap: int = 0
    blockers: frozenset[str] = frozenset()
    block_window: int = 3
    blocked_before: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        """The cue as the explanation record shows it (« parler|… … agent|… »)."""
        shown = [s.split("|")[0] + ("|…" if "|" in s else "") for s in self.slots]
        return " … ".join(shown) if self.gap else " ".join(shown)


@dataclass(frozen=True)
class CueMatch:
    """A cue found in a message: which, and the resident's words it matched."""

    cue: Cue
    words: str


def cue(
    reason: str,
    *slots: str,
    gap: int = 0,
    blockers: Iterable[str] = (),
    blocked_before: Iterable[str] = (),
) -> Cue:
    """A :class:`Cue` (a compact constructor for the lists)."""
    return Cue(reason, tuple(slots), gap, frozenset(blockers), 3, frozenset(blocked_before))


class CueMatcher:
    """Finds the first of its cues in a message (cues are tried in order)."""

    def __init__(self, cues: Sequence[Cue], *, exact_only: Iterable[str] = ()) -> None:
        self.cues = tuple(cues)
        self._alternatives = {c: [_parse_slot(s) for s in c.slots] for c in self.cues}
        vocabulary = {
            w for slots in self._alternatives.values() for s in slots for alt in s for w in alt
        }
        vocabulary |= {w for c in self.cues for w in c.blockers | c.blocked_before}
        self._vocabulary = frozenset(vocabulary)
        self._exact_only = frozenset(exact_only) | self._vocabulary

    def find(self, text: str) -> CueMatch | None:
        """The first cue found in ``text``, or None."""
        tokens = words(text, join_elisions=False)
        heard = [self._heard(token) for token in tokens]
        for c in self.cues:
            span = self._search(c, heard)
            if span is not None:
                return CueMatch(c, " ".join(tokens[span[0] : span[1]]))
        return None

    def _heard(self, token: str) -> frozenset[str]:
        """The vocabulary words ``token`` stands for (itself, or a word it misspells)."""
        if token in self._exact_only:
            return frozenset({token})
        return _near(token, self._vocabulary)

    def _search(self, c: Cue, heard: list[frozenset[str]]) -> tuple[int, int] | None:
        slots = self._alternatives[c]
        for start in range(len(heard)):
            for end_first in _matches_at(slots[0], heard, start):
                end = _rest(slots[1:], heard, end_first, c.gap)
                if end is None or _negated(heard, start) or _blocked(c, heard, start, end):
                    continue
                return start, end
        return None


def _parse_slot(slot: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(alt.split("_")) for alt in slot.split("|"))


def _matches_at(
    alternatives: tuple[tuple[str, ...], ...], heard: list[frozenset[str]], at: int
) -> list[int]:
    """Where each alternative of a slot that matches at ``at`` ends."""
    ends = []
    for alt in alternatives:
        if at + len(alt) <= len(heard) and all(w in heard[at + i] for i, w in enumerate(alt)):
            ends.append(at + len(alt))
    return ends


def _rest(
    slots: list[tuple[tuple[str, ...], ...]], heard: list[frozenset[str]], at: int, gap: int
) -> int | None:
    """Where the remaining slots end when they follow ``at`` within ``gap`` words, or None."""
    if not slots:
        return at
    for skip in range(gap + 1):
        for end in _matches_at(slots[0], heard, at + skip):
            found = _rest(slots[1:], heard, end, gap)
            if found is not None:
                return found
    return None


def _negated(heard: list[frozenset[str]], start: int) -> bool:
    return any(NEGATIONS & heard[i] for i in range(max(0, start - 2), start))


def _blocked(c: Cue, heard: list[frozenset[str]], start: int, end: int) -> bool:
    # Between its slots too: « le conseiller numérique est-il disponible » is not a request.
    after = heard[start : end + c.block_window]
    before = heard[max(start, end - 2) : end]
    return any(c.blockers & h for h in after) or any(c.blocked_before & h for h in before)


@lru_cache(maxsize=8192)
def _near(token: str, vocabulary: frozenset[str]) -> frozenset[str]:
    """``token`` and the vocabulary words it misspells (same first letter, 1 or 2 edits)."""
    found = {token}
    if len(token) < 4:
        return frozenset(found)
    for word in vocabulary:
        limit = 2 if len(word) >= 9 else 1 if len(word) >= 5 else 0
        if limit and word[0] == token[0] and abs(len(word) - len(token)) <= limit:
            if _edits(token, word, limit) <= limit:
                found.add(word)
    return frozenset(found)


def _edits(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b`` (with transpositions), stopping past ``limit``."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]

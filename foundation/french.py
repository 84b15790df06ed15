"""French text as the contact centre compares it: folded, split into words, matched to cues.

Residents write French with or without accents, in capitals, with typographic apostrophes
(« aujourd’hui »), ligatures (« œuvre ») and non-breaking spaces pasted from a web page. Every
comparison of their words goes through this one module:

- :func:`fold` gives the comparable form of a text: lower case, no diacritics, ligatures
  ``œ``/``æ`` expanded, every apostrophe written ``'``, one plain space between words
  (non-breaking and other Unicode spaces included). Punctuation is kept, so patterns can still
  see ``?`` or ``d'``. The handoff policy, the case intake and the injection check use it.
- :func:`words` splits a folded text into words of ASCII letters and digits, for the request
  classifier's n-grams (``join_elisions=True``: « j'ai » and « jai » are the same word) and the
  evaluation's text metrics.
- :func:`first_cue` finds a cue phrase in a folded text as a whole word or phrase: « tag » does
  not fire inside « étage », nor « non » inside « nonante ».
- :func:`strip_accents` is the bare step under :func:`fold` (lower case, diacritics removed,
  nothing else). The BM25 sparse vectors of :mod:`retrieval.sparse` are built on it, and the
  vectors already stored in indexes must not change; new code should use :func:`fold`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

#: Typographic apostrophes (and the accents typed in their place), written ``'`` by :func:`fold`.
APOSTROPHES = "’‘ʼ`´"
#: Ligatures expanded by :func:`fold` (``œuvre`` -> ``oeuvre``), as residents type them.
LIGATURES = {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"}

_FOLD_TABLE = str.maketrans({**dict.fromkeys(APOSTROPHES, "'"), **LIGATURES})
_WORD = re.compile(r"[a-z0-9]+")


def strip_accents(text: str) -> str:
    """Lower case and diacritics removed (Unicode NFKD), nothing else.

    Ligatures, apostrophes and spacing are left as they are, except what NFKD itself does
    (a non-breaking space becomes a space, ``ﬁ`` becomes ``fi``).

    >>> strip_accents("Pièce d'IDENTITÉ, Île-de-France")
    "piece d'identite, ile-de-france"
    """
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold(text: str) -> str:
    """The comparable form of ``text``: lower case, no accents, ``'``, ligatures expanded.

    Whitespace of any kind (non-breaking spaces, tabs, line breaks) collapses to one space;
    punctuation is kept.

    >>> fold("L’Œuvre  d’ÉTÉ\\u00a0?")
    "l'oeuvre d'ete ?"
    """
    # Lower case once more: NFKD turns a few characters into capitals (« ℌ » -> « H »).
    return " ".join(strip_accents(text.translate(_FOLD_TABLE)).lower().split())


def words(text: str, *, join_elisions: bool = False) -> list[str]:
    """The words of :func:`fold` ``(text)``: runs of ASCII letters and digits, in order.

    Everything else separates words, so letters that have no ASCII form once folded (``ß``,
    ``ø``, other scripts) are dropped.

    Args:
        text: Any text.
        join_elisions: Remove apostrophes instead of splitting there (« j'ai » -> ``jai``):
            residents who type without accents often drop apostrophes too (« jai perdu ma
            carte didentite »), and the request classifier must see the same word.

    >>> words("Mairie d'Arrondissement, 1er étage")
    ['mairie', 'd', 'arrondissement', '1er', 'etage']
    >>> words("J’ai perdu ma carte", join_elisions=True)
    ['jai', 'perdu', 'ma', 'carte']
    """
    folded = fold(text)
    if join_elisions:
        folded = folded.replace("'", "")
    return _WORD.findall(folded)


def first_cue(folded: str, cues: Iterable[str]) -> str | None:
    """The first of ``cues`` found in ``folded`` as a whole word or phrase, if any.

    Args:
        folded: A text passed through :func:`fold`.
        cues: Folded cue words or phrases, tried in order (« ne marche plus », « tag »).

    A cue must not touch a letter, a digit or an apostrophe before it, nor a letter or a digit
    after it: « tag » is not in « étage », nor « non » in « nonante ».

    >>> first_cue(fold("Un TAG sur la porte"), ("graffiti", "tag"))
    'tag'
    >>> first_cue(fold("au troisième étage"), ("tag",)) is None
    True
    """
    for cue in cues:
        if _cue_pattern(cue).search(folded):
            return cue
    return None


@lru_cache(maxsize=4096)
def _cue_pattern(cue: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w']){re.escape(cue)}(?![\w])")

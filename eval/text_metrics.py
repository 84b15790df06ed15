"""Text metrics: speech error rates, citations, lexical faithfulness and must-mention checks.

Three normalisations are used:

- :func:`normalize_french` is the documented WER/CER score: extended-wer-normalizer's French
  pipeline (numbers as words or digits alike, fillers, symbols, elisions), applied the same
  way to reference and hypothesis of every system compared;
- :func:`normalize_transcript` gives the *raw* WER/CER reported beside it (case and
  punctuation only; « 12 » and « douze » differ). Both keep accents (``a`` and ``à`` are
  different words to a listener);
- :func:`foundation.french.words` for matching answers against expected strings and passages
  folds accents, case and ligatures and splits at anything that is not a letter or a digit,
  because residents and models write French with or without accents.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from foundation.errors import ConfigurationError
from foundation.french import words

#: A text normalisation applied to reference and hypothesis before an error rate.
Normalizer = Callable[[str], str]

#: Extra that installs extended-wer-normalizer (the French WER normalisation).
EVAL_EXTRA = "eval"

#: Characters turned into word separators before WER/CER: apostrophes, then hyphens and dashes.
_SEPARATORS = re.compile(r"['’ʼ‘`´\-‐‑‒–—]")
_CITATION = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")

#: French function words ignored by :func:`content_words` (folded, lowercase).
FRENCH_STOP_WORDS = frozenset(
    """
    a afin ai aie ainsi alors apres as au aupres aussi autre autres aux avec avez avoir avons c
    ca car ce ceci cela celle celles celui ces cet cette ceux chaque chez comme comment d dans
    de deja des devez dois doit doivent donc dont du elle elles en encore entre est et etaient
    etait etc ete etes etre eu eux faire fait faut il ils j je l la le les leur leurs lors
    lorsque lui m ma mais me meme mes moi moins mon n ne ni non nos notre nous on ont or ou oui
    par pas peu peut peuvent peux plus pour pourquoi pouvez puis qu quand que quel quelle
    quelles quels qui s sa sans se selon sera seront ses si soit son sont sous sur t ta te tes
    toi ton tous tout toute toutes tres tu un une vers vos votre vous y
    """.split()
)

#: Share of a sentence's content words that must appear in the passages for it to count as
#: supported by :func:`lexical_faithfulness` ("mostly found").
DEFAULT_SUPPORT_THRESHOLD = 0.6


# --- normalisation ----------------------------------------------------------------------------


def normalize_transcript(text: str) -> str:
    """Normalise a transcript before WER/CER.

    Steps: Unicode NFC; lowercase; apostrophes (``' ’``), hyphens and dashes become spaces, so
    ``l'accident`` is the two words ``l accident`` and ``états-unis`` is ``états unis``; every
    other character that is neither a letter, a digit nor a space is deleted (punctuation,
    quotes, ``%``, ``€``); runs of whitespace collapse to one space. Accents are kept.

    >>> normalize_transcript("Il a dit « l'État-providence », voilà !")
    'il a dit l état providence voilà'
    """
    text = _SEPARATORS.sub(" ", unicodedata.normalize("NFC", text).lower())
    text = "".join(ch for ch in text if ch.isalnum() or ch.isspace())
    return " ".join(text.split())


#: "%" and "pour cent" are written as the one word "pourcent" before the French pipeline: its
#: number step reads the "cent" of "pour cent" as 100 ("80 %" would become "8 0 pour 1 0 0").
_PERCENT = re.compile(r"\s*%|\bpour\s+cent\b", re.IGNORECASE)
_french_pipeline: Any = None


def normalize_french(text: str) -> str:
    """Normalise French for WER/CER: the documented score of the speech evaluation.

    Steps: Unicode NFC; ``%`` and ``pour cent`` become ``pourcent``; then
    extended-wer-normalizer's French pipeline (pinned in the ``eval`` extra): e-mails, URLs,
    symbols (``&`` → ``et``), abbreviations (``M.`` → ``monsieur``), currencies, ordinals
    (``1er`` → ``premier``), elisions (``l'eau`` → ``l eau``), numbers in words turned into
    digits (``douze`` → ``12``), lowercase, hyphens split, punctuation removed, every digit
    its own word (``12`` → ``1 2``, so a wrong number of two digits counts two errors), the
    fillers ``euh``, ``hum``, ``ben``, ``bah``, ``ah``, ``oh`` *and* ``alors`` removed, and a
    word repeated more than three times in a row kept once. Accents are kept.

    >>> normalize_french("Minuteur douze minutes, euh…") == normalize_french("minuteur 12 minutes")
    True

    Raises:
        ConfigurationError: extended-wer-normalizer is missing (the message names the extra).
    """
    global _french_pipeline
    if _french_pipeline is None:
        try:
            from extended_wer_normalizer import french_wer_pipeline
        except ImportError as exc:
            raise ConfigurationError(
                "the French WER normalisation needs extended-wer-normalizer: "
                f"pip install -e '.[{EVAL_EXTRA}]' (the '{EVAL_EXTRA}' extra)"
            ) from exc
        _french_pipeline = french_wer_pipeline
    text = _PERCENT.sub(" pourcent", unicodedata.normalize("NFC", text))
    return " ".join(str(_french_pipeline([text])[0]).split())


#: The normalisations by name: ``french`` is the reported score, ``raw`` the figure beside it.
NORMALIZERS: dict[str, Normalizer] = {"french": normalize_french, "raw": normalize_transcript}


# --- speech -----------------------------------------------------------------------------------


def levenshtein(reference: Sequence[Hashable], hypothesis: Sequence[Hashable]) -> int:
    """Edit distance: the fewest substitutions, deletions and insertions from one to the other."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_item in enumerate(reference, start=1):
        current = [i]
        for j, hyp_item in enumerate(hypothesis, start=1):
            cost = 0 if ref_item == hyp_item else 1
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost))
        previous = current
    return previous[-1]


def _error_rate(edits: int, reference_length: int, hypothesis_empty: bool) -> float:
    if reference_length == 0:
        return 0.0 if hypothesis_empty else 1.0
    return edits / reference_length


def wer(reference: str, hypothesis: str, normalize: Normalizer = normalize_transcript) -> float:
    """Word error rate after ``normalize`` (:func:`normalize_transcript` unless told).

    ``WER = levenshtein(ref_words, hyp_words) / |ref_words|``; it can exceed 1 when the
    hypothesis adds words. An empty reference (a clip that must produce no text) scores 0.0
    for an empty hypothesis and 1.0 otherwise.
    """
    ref, hyp = normalize(reference).split(), normalize(hypothesis).split()
    return _error_rate(levenshtein(ref, hyp), len(ref), not hyp)


def cer(reference: str, hypothesis: str, normalize: Normalizer = normalize_transcript) -> float:
    """Character error rate after ``normalize`` (single spaces count as characters).

    ``CER = levenshtein(ref_chars, hyp_chars) / |ref_chars|``, with the same rule as
    :func:`wer` for an empty reference.
    """
    ref, hyp = normalize(reference), normalize(hypothesis)
    return _error_rate(levenshtein(ref, hyp), len(ref), not hyp)


def corpus_wer(
    references: Sequence[str],
    hypotheses: Sequence[str],
    normalize: Normalizer = normalize_transcript,
) -> float:
    """Corpus WER: ``Σ edits / Σ |ref_words|`` over all pairs (long clips weigh more)."""
    return _corpus_rate(references, hypotheses, normalize, words=True)


def corpus_cer(
    references: Sequence[str],
    hypotheses: Sequence[str],
    normalize: Normalizer = normalize_transcript,
) -> float:
    """Corpus CER: ``Σ edits / Σ |ref_chars|`` over all pairs."""
    return _corpus_rate(references, hypotheses, normalize, words=False)


def _corpus_rate(
    references: Sequence[str], hypotheses: Sequence[str], normalize: Normalizer, *, words: bool
) -> float:
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references for {len(hypotheses)} hypotheses")
    edits = length = 0
    all_empty = True
    for reference, hypothesis in zip(references, hypotheses, strict=True):
        ref, hyp = normalize(reference), normalize(hypothesis)
        ref_units: Sequence[str] = ref.split() if words else ref
        hyp_units: Sequence[str] = hyp.split() if words else hyp
        edits += levenshtein(ref_units, hyp_units)
        length += len(ref_units)
        all_empty = all_empty and not hyp_units
    return _error_rate(edits, length, all_empty)


# --- answers ----------------------------------------------------------------------------------


def cited_passages(answer: str) -> list[int]:
    """Passage numbers cited as ``[1]``, ``[2, 3]`` or ``[1][4]``: distinct, in order of appearance.

    >>> cited_passages("En mairie [2]. Gratuit [1, 2][4].")
    [2, 1, 4]
    """
    numbers = (
        int(number)
        for match in _CITATION.finditer(answer)
        for number in re.split(r"\s*[,;]\s*", match.group(1))
    )
    return list(dict.fromkeys(numbers))


def citation_correctness(cited: Iterable[int], passage_count: int) -> float:
    """Share of the distinct cited passage numbers that exist among the retrieved passages.

    Passages are numbered from 1 as in the prompt, so a citation ``n`` is correct when
    ``1 ≤ n ≤ passage_count``: ``correctness = |{n ∈ cited : 1 ≤ n ≤ N}| / |cited|``.
    An answer that cites nothing scores 1.0 (nothing is wrong); whether an answer must cite
    is a separate check.
    """
    distinct = list(dict.fromkeys(cited))
    if not distinct:
        return 1.0
    return sum(1 for n in distinct if 1 <= n <= passage_count) / len(distinct)


def content_words(text: str) -> set[str]:
    """Content words of a French text, for lexical comparisons.

    :func:`foundation.french.words`, drop :data:`FRENCH_STOP_WORDS`, then strip a final
    plural ``s`` or ``x`` from words longer than 3 letters (``demandes`` → ``demande``).
    Numbers are kept: an amount or a delay absent from the sources is a content error.
    """
    found: set[str] = set()
    for word in words(text):
        if word in FRENCH_STOP_WORDS:
            continue
        found.add(word[:-1] if len(word) > 3 and word[-1] in "sx" else word)
    return found


def split_sentences(text: str) -> list[str]:
    """Sentences of an answer (split after ``. ! ? …`` and at line breaks), citations removed."""
    without_citations = re.sub(r"\s*" + _CITATION.pattern, "", text)
    parts = (" ".join(part.split()) for part in _SENTENCE_END.split(without_citations))
    return [part for part in parts if part]


def lexical_faithfulness(
    answer: str, passages: Sequence[str], threshold: float = DEFAULT_SUPPORT_THRESHOLD
) -> float:
    """Cheap faithfulness: share of answer sentences whose content words are in the passages.

    For each sentence ``s`` of :func:`split_sentences` with a non-empty set ``W_s`` of
    :func:`content_words`: ``supported(s) ⟺ |W_s ∩ W_passages| / |W_s| ≥ threshold`` (default
    0.6), where ``W_passages`` is the union of the passages' content words.
    ``faithfulness = |supported sentences| / |sentences with content words|``; 1.0 when no
    sentence has content words. Pass the cited passages for a strict score, all retrieved ones
    for a lenient one. Lexical only: a paraphrase scores low, a negation flip scores high.
    """
    source_words = set().union(*(content_words(passage) for passage in passages))
    scored = supported = 0
    for sentence in split_sentences(answer):
        words = content_words(sentence)
        if not words:
            continue
        scored += 1
        if len(words & source_words) / len(words) >= threshold:
            supported += 1
    return supported / scored if scored else 1.0


def mentions_any(text: str, expected: Iterable[str]) -> bool:
    """Whether ``text`` contains one of ``expected``, ignoring accents, case and punctuation.

    Both sides go through :func:`foundation.french.words` and are compared on word boundaries,
    so ``"Oui"`` matches ``"oui, en mairie"`` but not ``"Louis"``. The last word may take a
    French feminine or plural ending (« indigent » is said by « une personne indigente »,
    « gratuit » by « gratuite »). Strings without a word are ignored; with nothing left to
    look for, the check passes.
    """
    needles = [" ".join(found) for found in map(words, expected) if found]
    if not needles:
        return True
    haystack = f" {' '.join(words(text))} "
    return any(
        re.search(rf" {re.escape(needle)}(?:e|s|es|x)? ", haystack) is not None
        for needle in needles
    )

"""What a generated answer must pass before it is shown as sourced, and one source per document.

The official text comes first (:mod:`retrieval.extractive`); the LLM's rewording is shown only
when :func:`vet_generated` finds nothing wrong with it:

- every ``[n]`` points to a passage it was given, and it cites at least one;
- every figure it states (amount, duration, date, phone number) stands in its passages
  (:func:`retrieval.faithfulness.unfaithful_figures`);
- nothing of the prompt's worked examples leaks into it (« La médiathèque… »).

Otherwise the resident gets the extractive answer and the explanation record says why.

:func:`cite_documents` numbers the sources by document rather than by passage, so that the
resident sees each fiche once, named by its best section, and the ``[n]`` of the answer point
to those documents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from foundation.french import fold
from retrieval.answer import check_citations
from retrieval.faithfulness import unfaithful_figures
from retrieval.prompts import EXAMPLES
from retrieval.types import ScoredChunk

#: Words in a row that, found in an answer, show that a worked example leaked into it.
LEAK_RUN_WORDS = 5

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


@dataclass(frozen=True)
class Vetted:
    """A generated answer after its checks.

    Attributes:
        answer: The answer, citations of missing passages removed.
        cited: 1-based passage numbers it cites.
        reason: Why it must not be shown as sourced (``invalid_citation``,
            ``unfaithful_figures``, ``prompt_example``, ``empty_answer``), or None when it may.
    """

    answer: str
    cited: list[int]
    reason: str | None

    @property
    def accepted(self) -> bool:
        return self.reason is None


def _runs(text: str, size: int) -> set[tuple[str, ...]]:
    words = fold(text).replace("'", " ").split()
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


_EXAMPLE_RUNS = frozenset(
    run
    for message in EXAMPLES
    if message.role == "assistant"
    for run in _runs(message.content, LEAK_RUN_WORDS)
)


def leaks_example(answer: str) -> bool:
    """Whether ``answer`` repeats five words in a row of the prompt's worked answers."""
    return not _EXAMPLE_RUNS.isdisjoint(_runs(answer, LEAK_RUN_WORDS))


def vet_generated(answer: str, passages: Sequence[ScoredChunk]) -> Vetted:
    """Check a generated answer against the passages it was given (numbered from 1)."""
    check = check_citations(answer, len(passages))
    text = check.answer.strip()
    if not text:
        return Vetted(text, [], "empty_answer")
    if leaks_example(text):
        return Vetted(text, check.cited, "prompt_example")
    if check.invalid or not check.grounded:
        return Vetted(text, check.cited, "invalid_citation")
    if unfaithful_figures(text, passages):
        return Vetted(text, check.cited, "unfaithful_figures")
    return Vetted(text, check.cited, None)


@dataclass(frozen=True)
class DocumentCitations:
    """Passages numbered by document: ``passage_to_document[n]`` is the document's number."""

    passage_to_document: dict[int, int]
    #: For each document number, the best passage of that document (its first, best ranked).
    best_passage: dict[int, int]

    def renumber(self, answer: str) -> str:
        """The answer with each ``[n]`` of a passage turned into its document's number."""

        def rewrite(match: re.Match[str]) -> str:
            numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
            documents = dict.fromkeys(self.passage_to_document.get(n, n) for n in numbers)
            return "[" + ", ".join(str(d) for d in documents) + "]"

        return _CITATION.sub(rewrite, answer)

    def documents_cited(self, passages_cited: Sequence[int]) -> list[int]:
        """Document numbers of the passages cited, ascending, each once."""
        found = {
            self.passage_to_document[n] for n in passages_cited if n in self.passage_to_document
        }
        return sorted(found)


def cite_documents(passages: Sequence[ScoredChunk]) -> DocumentCitations:
    """Number the documents of ``passages`` (best ranked first) and map each passage to one."""
    numbers: dict[str, int] = {}
    passage_to_document: dict[int, int] = {}
    best: dict[int, int] = {}
    for n, passage in enumerate(passages, start=1):
        document = passage.chunk.document_id
        if document not in numbers:
            numbers[document] = len(numbers) + 1
            best[numbers[document]] = n
        passage_to_document[n] = numbers[document]
    return DocumentCitations(passage_to_document, best)

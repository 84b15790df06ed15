"""Agent assist: a cited reply suggested to the agent who holds a conversation.

:class:`AgentAssist` answers the resident's last question the way the assistant does before any
LLM (the answer-first composer, :func:`retrieval.extractive.compose_answer`, on the same hybrid
search): a short reply made of the official text, its ``[n]`` numbered by document, and the list
of its sources (title, section, link). The agent inserts it in the reply box, edits it or not,
and sends it through the ordinary agent message path.

When the resident's last message asks nothing the knowledge base answers, the two messages
before it are tried, latest first, each without its sentences that ask for a person (« Je veux
parler à un agent »): the suggestion says which question it answers. Nothing here writes; what
the agent does with a suggestion is kept by
:class:`contact_center.handoffs.suggestion_log.SuggestionLog`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.extractive import compose_answer
from retrieval.hybrid import HybridRetriever
from retrieval.settings import RetrievalSection
from retrieval.vetting import cite_documents
from routing.handoff import handoff_before_answer

#: Resident messages tried for a suggestion, latest first.
QUESTIONS_TRIED = 3
_SENTENCES = re.compile(r"(?<=[.!?…])\s+|\n+")
NOTHING_FOUND = (
    "Aucune réponse de la base de connaissances ne correspond aux derniers messages de l'usager."
)


@dataclass(frozen=True)
class SuggestedSource:
    """A document the suggestion cites, under its ``[n]``."""

    n: int
    document_id: str
    title: str
    section: str
    url: str


@dataclass(frozen=True)
class Suggestion:
    """A reply suggested to the agent, or None found (``text`` empty, ``note`` says why).

    Attributes:
        question: The resident's message it answers (None when nothing was found).
        text: The reply, each sentence followed by the ``[n]`` of its document.
        sources: The documents cited, by number.
        note: A French line for the agent when there is no suggestion.
    """

    question: str | None
    text: str
    sources: tuple[SuggestedSource, ...] = ()
    note: str = ""

    @property
    def found(self) -> bool:
        return bool(self.text)


class AgentAssist:
    """Suggests a cited reply to the resident's last question (see the module docstring).

    Args:
        retriever: The hybrid search the assistant uses.
        settings: ``top_k`` and the relevance under which the assistant abstains.
    """

    def __init__(self, retriever: HybridRetriever, settings: RetrievalSection) -> None:
        self._retriever = retriever
        self._settings = settings

    def suggest(self, tenant_id: str, resident_messages: Sequence[str]) -> Suggestion:
        """The suggestion for the latest of ``resident_messages`` that the knowledge base
        answers (at most :data:`QUESTIONS_TRIED` tried)."""
        asked = [_without_person_request(m) for m in resident_messages]
        for question in reversed([m for m in asked if m][-QUESTIONS_TRIED:]):
            suggestion = self._answer(tenant_id, question)
            if suggestion is not None:
                return suggestion
        return Suggestion(None, "", note=NOTHING_FOUND)

    def _answer(self, tenant_id: str, question: str) -> Suggestion | None:
        result = self._retriever.search(question, tenant_id, self._settings.top_k)
        if not result.chunks or result.relevance < self._settings.min_relevance:
            return None
        extract = compose_answer(question, result.chunks)
        if extract.abstained:
            return None
        documents = cite_documents(result.chunks)
        sources = tuple(
            SuggestedSource(
                n=documents.passage_to_document[source.citations[0]],
                document_id=source.document_id,
                title=source.title,
                section=source.section,
                url=source.url,
            )
            for source in extract.sources
        )
        ordered = tuple(sorted(sources, key=lambda source: source.n))
        return Suggestion(question, documents.renumber(extract.text), ordered)


def _without_person_request(text: str) -> str:
    """``text`` without its sentences asking for a person: their words (« agent ») would find
    pages about the town's agents."""
    kept = []
    for sentence in _SENTENCES.split(text.strip()):
        decision = handoff_before_answer(sentence)
        if decision is None or decision.reason != "resident_request":
            kept.append(sentence.strip())
    return " ".join(sentence for sentence in kept if sentence)

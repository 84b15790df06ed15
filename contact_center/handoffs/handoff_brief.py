"""The brief an agent reads at the top of a conversation handed off or transferred to them.

Rule-based, no model: who the resident is as far as they said it (« je m'appelle… », an
e-mail address, a phone number, « j'habite… »), what they asked, what the assistant answered
(its first two sentences, without citations, or that it found nothing), and why the conversation
came to people: the handoff's reason and each transfer with the note the previous agent left.
Built from the stored conversation each time it is read, so that it is always up to date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from contact_center.conversation.store import MessageView
from contact_center.db import aware
from contact_center.handoffs.queue import HandoffView
from retrieval.prompts import strip_citations

#: Resident messages and assistant answers quoted, the latest.
ASKED = 3
ANSWERED = 2
QUOTE_CHARS = 300
#: Sentences of an answer quoted.
ANSWER_SENTENCES = 2

_LEAD = r"(?:M\.|Mme|Madame|Monsieur)\s+"
_NAMED = r"[A-ZÀ-Ý][\w'’-]+(?:\s+[A-ZÀ-Ý][\w'’-]+){0,2}"
_NAME = re.compile(
    r"(?i:\bje m['’]appelle|\bje me nomme|\bmon nom est|\bmoi c['’]est)\s+"
    rf"((?:{_LEAD})?{_NAMED})|(?i:\bje suis)\s+({_LEAD}{_NAMED})"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?:(?:\+|00)33[ .-]?(?:\(0\))?[ .-]?|\b0)[1-9](?:[ .-]?\d{2}){4}\b")
_ADDRESS = re.compile(
    r"(?i:\bj['’]habite|\bje réside|\bmon adresse est|\bmon adresse :)\s+"
    r"(?i:au\s+|à\s+|a\s+|le\s+|la\s+)?([^.!?\n]{4,80})"
)
_FACTS = (("Nom", _NAME), ("Courriel", _EMAIL), ("Téléphone", _PHONE), ("Adresse", _ADDRESS))
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s")


@dataclass(frozen=True)
class HandoffBrief:
    """What the receiving agent needs before reading the conversation.

    Attributes:
        resident: What the resident said of themselves (« Nom : Claire Dubois »), if anything.
        asked: The resident's messages before the handoff, the latest last.
        answered: The assistant's answers, shortened, the latest last.
        reason: Why the conversation came to people.
        transfers: Each transfer between services, with its note.
    """

    resident: tuple[str, ...]
    asked: tuple[str, ...]
    answered: tuple[str, ...]
    reason: str
    transfers: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The brief as plain French lines (to copy into a case)."""
        lines = ["Usager : " + ("; ".join(self.resident) or "ne s'est pas présenté.")]
        lines += [f"Demande : « {asked} »" for asked in self.asked]
        lines += [f"Réponse de l'assistant : {answer}" for answer in self.answered]
        lines.append(f"Motif du transfert : {self.reason}.")
        lines += self.transfers
        return "\n".join(lines)


def handoff_brief(
    messages: Sequence[MessageView], handoff: HandoffView, names: Callable[[str], str]
) -> HandoffBrief:
    """The brief of ``handoff``'s conversation (``names``: a service's French name)."""
    before = list(messages)
    for number, message in enumerate(messages):
        if message.role == "agent" and aware(message.created_at) >= handoff.created_at:
            before = list(messages[:number])  # what the agents found when they came in
            break
    residents = [m.content for m in messages if m.role == "user"]
    asked = [_quote(m.content) for m in before if m.role == "user"][-ASKED:]
    # Answers from the knowledge base carry sources; notices and action replies do not.
    answered = [_answer(m) for m in before if m.role == "assistant" and (m.sources or m.abstained)]
    return HandoffBrief(
        resident=resident_facts(residents),
        asked=tuple(asked),
        answered=tuple(a for a in answered if a)[-ANSWERED:],
        reason=handoff.reason_label,
        transfers=tuple(_transfer(t, names) for t in handoff.details.get("transfers", [])),
    )


def resident_facts(texts: Sequence[str]) -> tuple[str, ...]:
    """What the resident said of themselves in ``texts``: name, e-mail, phone, address."""
    found: dict[str, str] = {}
    for text in texts:
        for label, pattern in _FACTS:
            match = pattern.search(text)
            if match is not None:  # the name or address group, else the whole match
                value = next((group for group in match.groups() if group), match.group(0))
                found[label] = " ".join(value.split()).rstrip(",;")
    return tuple(f"{label} : {value}" for label, value in found.items())


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1].rstrip() + "…"


def _answer(message: MessageView) -> str:
    if message.abstained:
        return "aucune réponse trouvée dans ses sources."
    sentences = _SENTENCE_END.split(" ".join(strip_citations(message.content).split()))
    return _quote(" ".join(sentences[:ANSWER_SENTENCES]))


def _transfer(transfer: dict[str, str], names: Callable[[str], str]) -> str:
    line = f"Transférée de « {names(transfer.get('from', ''))} » "
    line += f"à « {names(transfer.get('to', ''))} »"
    note = " ".join((transfer.get("note") or "").split())
    return f"{line} : « {note} »." if note else f"{line}."

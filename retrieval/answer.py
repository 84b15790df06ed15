"""The grounded answer chain: passages in, a streamed French answer with citations out.

:class:`GroundedAnswerer` refuses prompt-injection attempts and abstains without passages
*before* calling the LLM (both cost nothing and cannot go wrong), and otherwise streams the
model's answer to the prompt of :mod:`retrieval.prompts`. Once the answer is complete,
:func:`check_citations` tells which passages it cites, drops citations of passages that were
never retrieved, and says whether the answer is grounded at all.

Deciding to abstain on weak retrieval, or to hand off, belongs to the conversation engine:
outcomes are values there, not exceptions here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from foundation.french import fold
from retrieval.chat import ChatMessage, ChatModel
from retrieval.prompts import PROMPT_VERSION, build_messages
from retrieval.settings import RetrievalSection
from retrieval.types import ScoredChunk

#: Answer when the documents do not hold the answer (or nothing relevant was found).
ABSTAIN_TEXT = (
    "Je ne trouve pas cette information dans les documents de la commune. Je peux vous mettre "
    "en relation avec un agent, ou vous pouvez contacter l'accueil de la mairie."
)

#: Answer to an attempt to change the assistant's instructions or to make it reveal them.
REFUSAL_INJECTION = (
    "Je ne peux pas donner suite à cette demande. Je suis là pour vous renseigner sur les "
    "démarches et les services de la commune : posez-moi votre question, ou demandez à parler "
    "à un agent."
)

# "[1]", "[1, 2]", "[1; 3]", "[1-3]", "[Document 2]"; "(1)" is not a citation.
_CITATION = re.compile(
    r"\s*\[\s*(?:(?:documents?|docs?|sources?|passages?)\s*)?"
    r"(\d{1,3}(?:\s*(?:[,;\-–]|et)\s*\d{1,3})*)\s*\]",
    re.IGNORECASE,
)
_NUMBER_OR_RANGE = re.compile(r"(\d+)\s*(?:[\-–]\s*(\d+))?")
_MAX_RANGE = 10


@dataclass(frozen=True)
class CitationCheck:
    """What an answer cites, checked against the passages it was given.

    Attributes:
        answer: The answer with citations of missing passages removed, and the others written
            ``[1]`` or ``[1, 2]``.
        cited: 1-based numbers of the passages cited that exist, ascending.
        invalid: Numbers cited that match no passage given to the model, ascending.
        grounded: Whether at least one existing passage is cited.
    """

    answer: str
    cited: list[int]
    invalid: list[int]
    grounded: bool


def _numbers(group: str) -> list[int]:
    """``"1, 3-4"`` -> ``[1, 3, 4]``; an absurd range counts as its two ends."""
    numbers: list[int] = []
    for match in _NUMBER_OR_RANGE.finditer(group):
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) else start
        if start <= end <= start + _MAX_RANGE:
            numbers.extend(range(start, end + 1))
        else:
            numbers.extend((start, end))
    return numbers


def check_citations(answer: str, n_passages: int) -> CitationCheck:
    """Check the ``[n]`` citations of ``answer`` against ``n_passages`` passages.

    Args:
        answer: The complete answer of the model.
        n_passages: How many passages were numbered in the prompt.

    Returns:
        The citations found and the answer cleaned of citations of missing passages.
    """
    cited: set[int] = set()
    invalid: set[int] = set()

    def rewrite(match: re.Match[str]) -> str:
        numbers = _numbers(match.group(1))
        valid = [n for n in dict.fromkeys(numbers) if 1 <= n <= n_passages]
        cited.update(valid)
        invalid.update(n for n in numbers if not 1 <= n <= n_passages)
        if not valid:
            return ""
        leading = match.group(0)[: len(match.group(0)) - len(match.group(0).lstrip())]
        return f"{leading}[{', '.join(map(str, valid))}]"

    cleaned = _CITATION.sub(rewrite, answer)
    return CitationCheck(
        answer=cleaned.strip(),
        cited=sorted(cited),
        invalid=sorted(invalid),
        grounded=bool(cited),
    )


_RULES = r"(?:instructions?|consignes?|regles?|directives?|prompt|programmation)"
_OVERRIDE = (
    r"(?<!')\b(?:ignore[rz]?|oublie[rz]?|ne tien[st]? pas compte|ne tenez pas compte|"
    r"fai[st] abstraction|outrepasse[rz]?|contourne[rz]?)\b"
)
_REVEAL = (
    r"\b(?:revele|revelez|affiche|affichez|montre|montrez|donne|donnez|repete|repetez|"
    r"ecris|ecrivez|recite|dis|dites|copie)\b(?:[-\s]+(?:moi|nous))?\W+(?:\w+\W+){0,2}?"
)
_INJECTION_PATTERNS = [
    re.compile(p)
    for p in (
        # French: "ignore tes instructions", "oublie les consignes precedentes", and the
        # imperative opening a sentence ("Oublie les consignes."), but not "j'ai oublie les
        # consignes du formulaire".
        _OVERRIDE + r"\W+(?:\w+\W+){0,3}?(?:tes|vos|ton|votre)\s+(?:\w+\s+)?" + _RULES,
        _OVERRIDE + r"\W+(?:\w+\W+){0,3}?" + _RULES + r"\s+(?:\w+\s+)?"
        r"(?:precedente|anterieure|initiale|ci-dessus|d'origine|du systeme|qu'on t'a)",
        r"(?:^|[.!?:;,]\s*)(?:ignore|ignorez|oublie|oubliez)\s+(?:toutes\s+)?(?:les|ces)\s+"
        + _RULES,
        # "revele tes consignes"; with "vos" (also how residents address the mairie: "donnez-moi
        # vos consignes de tri") only the model's own rules count.
        _REVEAL + r"(?:ton|tes)\s+(?:\w+\s+)?" + _RULES,
        _REVEAL + r"(?:votre|vos)\s+(?:prompt|programmation|"
        r"(?:instructions|consignes|regles) (?:systeme|initiales|secretes|internes|exactes))",
        r"\b(?:prompt|message|instructions?|consignes?) (?:systeme|system|initial(?:es?)?)\b",
        r"\btu es (?:maintenant|desormais|a present)\b",
        r"\b(?:a partir de maintenant|desormais),? (?:tu es|tu vas|tu dois|agis|reponds)\b",
        r"\b(?:fais comme si tu etais|joue le role|agis comme si|mode developpeur)\b",
        # English ("j'ignore" is French for "I do not know").
        r"(?<!')\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+)?(?:of\s+)?"
        r"(?:your|previous|prior|above|earlier|the previous|the above|the system)\s+"
        r"(?:\w+\s+)?(?:instructions?|rules|prompt|guidelines)\b",
        r"\b(?:system prompt|developer mode|do anything now|you are now|from now on you|"
        r"(?:prompt|text|instructions) above)\b",
        r"\b(?:reveal|print|show|repeat)\b\W+(?:\w+\W+){0,2}?"
        r"(?:your|the system|the initial|the above)\s+(?:\w+\s+)?(?:instructions|prompt)\b",
        r"\bjailbreak",
        # Chat-template control sequences pasted into a message.
        r"<\|[a-z_]+\|>|\[/?inst\]",
    )
]
_DAN = re.compile(r"\bDAN\b")


def detect_injection(text: str) -> bool:
    """Whether ``text`` looks like an attempt to override or reveal the assistant's rules.

    A cheap heuristic (French and English) run before the LLM, which is also told to refuse;
    it aims at few false alarms on real questions ("j'ai oublié les consignes du formulaire"
    is not an attack).
    """
    if _DAN.search(text):
        return True
    folded = fold(text)
    return any(pattern.search(folded) for pattern in _INJECTION_PATTERNS)


class GroundedAnswerer:
    """Answers a question from retrieved passages, through any :class:`ChatModel`.

    Args:
        chat_model: The LLM (warmed up by the caller).
        retrieval_settings: Gives ``max_context_chars``, the budget of passages in the prompt.
        max_tokens: Limit of generated tokens; the model's own default when ``None``.
    """

    def __init__(
        self,
        chat_model: ChatModel,
        retrieval_settings: RetrievalSection,
        *,
        max_tokens: int | None = None,
    ) -> None:
        self.chat_model = chat_model
        self._max_context_chars = retrieval_settings.max_context_chars
        self._max_tokens = max_tokens

    @property
    def prompt_version(self) -> str:
        """Version of the prompt, to record with each answer."""
        return PROMPT_VERSION

    def messages(
        self,
        question: str,
        passages: Sequence[ScoredChunk],
        history: Sequence[ChatMessage] = (),
    ) -> list[ChatMessage]:
        """The prompt that :meth:`astream` sends (for explanation records and tests)."""
        return build_messages(question, passages, history, self._max_context_chars)

    async def astream(
        self,
        question: str,
        passages: Sequence[ScoredChunk],
        history: Sequence[ChatMessage] = (),
        *,
        injection: bool | None = None,
    ) -> AsyncIterator[str]:
        """Stream the answer to ``question``.

        Yields :data:`REFUSAL_INJECTION` for an injection attempt and :data:`ABSTAIN_TEXT`
        without passages, in one piece and without calling the LLM.

        Args:
            question: The resident's question.
            passages: The retrieved passages, numbered in this order in the prompt.
            history: The conversation so far.
            injection: Whether ``question`` is an injection attempt, when the caller already
                checked it (the conversation engine checks each message once); None: check here.

        Raises:
            LLMError: The LLM failed (the caller degrades: apology, handoff).
        """
        if injection is None:
            injection = detect_injection(question)
        if injection:
            yield REFUSAL_INJECTION
            return
        if not passages:
            yield ABSTAIN_TEXT
            return
        messages = self.messages(question, passages, history)
        async for delta in self.chat_model.astream(messages, max_tokens=self._max_tokens):
            yield delta

"""Answer first from the official text: a short cited answer composed without any LLM.

:func:`compose_answer` reads what the question asks for (:mod:`retrieval.question_intent`),
cuts the retrieved passages into sentences and list items, scores each one (the question's
content words it shares, the cues of the intent: an amount, a duration, « mairie », the name of
a document; the resident's case: a baby, an adult, someone born abroad) and keeps the best
two to four, *verbatim*, each followed by the ``[n]`` of the passage it comes from, then one
line pointing to the page for the rest. What a counter agent says first, in about a second.

The ``[n]`` numbers are the passages' positions, as in the LLM prompt
(:mod:`retrieval.prompts`), so :func:`retrieval.answer.check_citations` holds by
construction, and :attr:`ExtractiveAnswer.sentences` says which passage each sentence came
from. When no sentence shares anything with the question, the answer is an abstention
(:data:`retrieval.answer.ABSTAIN_TEXT`); deciding on weak retrieval stays with the engine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from foundation.french import fold
from retrieval.answer import ABSTAIN_TEXT
from retrieval.answer_cues import case_weight, intent_cue, names_a_case
from retrieval.question_intent import Case, Intent, QuestionReading, expand, read_question
from retrieval.sparse import FrenchSparseEncoder
from retrieval.types import ScoredChunk

#: Sentences kept for each intent (a list of papers needs more lines than a price).
MAX_SENTENCES: dict[Intent, int] = {
    "cost": 2,
    "place": 3,
    "documents": 4,
    "delay": 2,
    "hours": 3,
    "eligibility": 3,
    "procedure": 3,
}
#: A sentence joins the answer when it scores at least this share of the best one.
KEEP_RATIO = 0.55
#: Below this share of the question's content words found in the best sentence and its
#: headings, the composer abstains.
MIN_OVERLAP = 0.2
#: Sentences longer than this are cut down to their first sentence-like part or skipped.
MAX_SENTENCE_CHARS = 400
#: Passages read, best first; a passage of the n-th distinct document counts
#: ``1 / (1 + PRIOR_DECAY * (n - 1))``: the sections of one document rank alike (their order
#: among the passages says nothing of which one answers), so its headings decide between them.
MAX_PASSAGES = 8
PRIOR_DECAY = 0.25
#: A sentence from a second document must score at least this share of the best one.
OTHER_DOCUMENT_RATIO = 0.8
#: Intents whose answer is a precise fact: a sentence without its cue is worth this share.
_FACT_INTENTS: dict[Intent, float] = {
    "cost": 0.5,
    "delay": 0.5,
    "documents": 0.6,
    "place": 0.5,
    "hours": 0.5,
}
#: Sentences sharing this share of their content words with one already kept say the same.
_REPEAT_OVERLAP = 0.6

_WEIGHTS = {"words": 0.4, "context": 0.25, "cue": 0.35}
_SENTENCE_ENDS = (".", "!", "…", ")", "»")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀÂÉÈÊÎÔÛÇ«\"(])")
_LIST_MARKER = re.compile(r"^\s*(?:[-•*]|\d{1,2}[.)])\s+")
#: A web address, whole (what is left of a sentence without it is what the sentence says).
_URL = re.compile(r"(?:https?://|www\.)\S*")
#: A sentence with a web address is kept when it says this many words besides it (« Pour
#: contester un FPS, faites d'abord un RAPO … en ligne sur https://… »: required facts 0.70 ->
#: 0.71 on the team's sets); the voice channels do not read it aloud
#: (:func:`contact_center.conversation.answer_paths.spoken_form`).
MIN_WORDS_WITH_LINK = 8
_LABEL = re.compile(r"^[^.!?]{2,80}:$")
_SKIPPED_LINES = re.compile(
    r"^(?:Service en ligne|Formulaire|Modèle de document|Simulateur|Outil de recherche|"
    r"Accès en ligne|Avertissement)\b"
)
_encoder = FrenchSparseEncoder()


@dataclass(frozen=True)
class ExtractedSentence:
    """One sentence or list item of the answer, as written in its passage.

    Attributes:
        text: The sentence, verbatim from the passage (list marker and spaces trimmed).
        passage: 1-based position of its passage among those given: the ``[n]`` cited.
        document_id: Id of the passage's document.
        context: Verbatim labels that situate it (a heading such as « Avant 15 ans », a line
            such as « En Métropole : »), shown before it, without their final colon.
    """

    text: str
    passage: int
    document_id: str
    context: tuple[str, ...] = ()

    def render(self) -> str:
        """``context : text [n]``."""
        lead = ", ".join(self.context)
        return f"{lead} : {self.text} [{self.passage}]" if lead else f"{self.text} [{self.passage}]"


@dataclass(frozen=True)
class CitedSource:
    """One distinct document cited by the answer, named by its best section.

    Attributes:
        document_id: Id of the document (``F34752``, ``vf-titres-identite``).
        title: Title of the document.
        section: Heading path of its best passage used (``Avant 15 ans``), or ``""``.
        url: Public link to the document.
        attribution: Licence / source line to show with it.
        citations: The ``[n]`` numbers of its passages cited in the answer.
    """

    document_id: str
    title: str
    section: str
    url: str
    attribution: str
    citations: tuple[int, ...]


@dataclass(frozen=True)
class ExtractiveAnswer:
    """A short answer made of the official text's own sentences, or an abstention.

    Attributes:
        text: The answer (French), each sentence followed by its ``[n]``, then a line pointing
            to the page; :data:`~retrieval.answer.ABSTAIN_TEXT` when abstaining.
        intent: What the question asks for.
        cases: The resident's situation named in the question.
        sentences: The sentences used, in the order of the answer.
        sources: One entry per distinct document cited, best first.
        abstained: True when nothing relevant was found in the passages.
    """

    text: str
    intent: Intent
    cases: tuple[Case, ...] = ()
    sentences: tuple[ExtractedSentence, ...] = ()
    sources: tuple[CitedSource, ...] = ()
    abstained: bool = False

    @property
    def cited(self) -> list[int]:
        """The ``[n]`` numbers the answer cites, ascending."""
        numbers = {s.passage for s in self.sentences}
        numbers.update(n for source in self.sources for n in source.citations)
        return sorted(numbers)


@dataclass
class _Candidate:
    sentence: ExtractedSentence
    position: tuple[int, int]  # passage rank, order inside the passage
    score: float = 0.0
    overlap: float = 0.0
    hint: str = ""
    item: bool = False
    folded: str = field(default="", repr=False)
    stems: set[str] = field(default_factory=set, repr=False)


def compose_answer(
    question: str, passages: Sequence[ScoredChunk], reading: QuestionReading | None = None
) -> ExtractiveAnswer:
    """Compose a short cited answer to ``question`` from ``passages`` (best first), no LLM.

    Args:
        question: The resident's question, in their words (for a follow-up, the query searched:
            :attr:`retrieval.followup.SearchPlan.words`).
        passages: Retrieved passages, most relevant first; ``[n]`` is ``passages[n - 1]``. The
            first ``MAX_PASSAGES`` are read, and any later one of their documents (the best
            document's other sections: :meth:`retrieval.hybrid.HybridRetriever.search`).
        reading: What the question asks and for whom, when known better than its own words
            say (a follow-up inherits them: :attr:`retrieval.followup.SearchPlan.reading`).

    Returns:
        The answer; ``abstained`` is set when no sentence shares enough with the question.
    """
    reading = reading or read_question(question)
    wanted = _wanted(question)
    documents = list(dict.fromkeys(p.chunk.document_id for p in passages[:MAX_PASSAGES]))
    candidates = [
        candidate
        for rank, passage in enumerate(passages)
        if rank < MAX_PASSAGES or passage.chunk.document_id in documents
        for candidate in _candidates(rank, passage)
    ]
    for candidate in candidates:
        _score(candidate, wanted, reading.intent, reading.cases, passages, documents)
    chosen = _choose(candidates, MAX_SENTENCES[reading.intent])
    if not chosen or max(c.overlap for c in chosen) < MIN_OVERLAP:
        return ExtractiveAnswer(ABSTAIN_TEXT, reading.intent, reading.cases, abstained=True)
    sentences = tuple(c.sentence for c in _in_reading_order(chosen))
    sources = _sources(chosen, passages)
    lines = [s.render() for s in sentences]
    lines.append(_pointer(sources[0], passages))
    return ExtractiveAnswer(
        "\n".join(lines), reading.intent, reading.cases, sentences, tuple(sources)
    )


def _wanted(question: str) -> list[frozenset[str]]:
    """Each content word of the question with the official words for it (:func:`expand`)."""
    words = dict.fromkeys(_encoder.tokens(question))
    forms: dict[str, set[str]] = {stem: {stem} for stem in words}
    for word in question.split():
        stems = _encoder.tokens(word)
        if len(stems) == 1 and stems[0] in forms:
            forms[stems[0]].update(_encoder.tokens(expand(word)))
    return [frozenset(found) for found in forms.values()]


def _share(wanted: list[frozenset[str]], found: set[str]) -> float:
    """Share of the question's words found, in their own or the official wording."""
    return sum(1 for forms in wanted if forms & found) / len(wanted) if wanted else 0.0


def _candidates(rank: int, passage: ScoredChunk) -> list[_Candidate]:
    """The sentences and list items of one passage, each with its verbatim labels.

    A line ending with a colon (« Coût : », « En Métropole : ») labels what follows it: the
    next line, or the list under it; a short value after a label (« Gratuit », « 15 ans ») is
    kept with its label. A question line (« Où et comment faire la demande ? ») only helps to
    score the sentences after it. The first line of a document's first chunk is its summary,
    before any heading: kept only when whole (summaries are often cut short).
    """
    chunk = passage.chunk
    heading = chunk.heading_path[-1] if chunk.heading_path else ""
    situating = heading if heading != chunk.title and names_a_case(fold(heading)) else ""
    label = hint = ""
    found: list[_Candidate] = []
    for number, line in enumerate(chunk.text.splitlines()):
        line = line.strip()
        if not line or _SKIPPED_LINES.match(line):
            continue
        if number == 0 and chunk.ordinal == 0:
            if line.endswith(_SENTENCE_ENDS):
                found.extend(_pieces(rank, chunk.document_id, line, (), "", len(found)))
            continue
        if _LABEL.match(line) or line.endswith("?"):
            label, hint = (line[:-1].strip(), "") if line.endswith(":") else ("", line)
            continue
        is_item = bool(_LIST_MARKER.match(line))
        text = _LIST_MARKER.sub("", line) if is_item else line
        labels = tuple(c for c in (situating, label) if c)
        found.extend(_pieces(rank, chunk.document_id, text, labels, hint, len(found), is_item))
        if not is_item:
            label = hint = ""  # a label situates the line or the list right after it only
    return found


def _pieces(
    rank: int,
    document_id: str,
    text: str,
    labels: tuple[str, ...],
    hint: str,
    start: int,
    is_item: bool = False,
) -> list[_Candidate]:
    """The sentences of one line (a list item stays whole), with the labels they lack."""
    pieces: list[_Candidate] = []
    for piece in [text] if is_item else _SENTENCE_SPLIT.split(text):
        piece = piece.strip()
        too_short = len(piece) < (2 if labels else 12)
        if too_short or len(piece) > MAX_SENTENCE_CHARS or piece.endswith("?"):
            continue
        if _URL.search(piece) and len(_URL.sub("", piece).split()) < MIN_WORDS_WITH_LINK:
            continue  # a bare link (« Formulaire de contact en ligne : https://… »)
        context = tuple(label for label in labels if fold(label) not in fold(piece))
        sentence = ExtractedSentence(piece, rank + 1, document_id, context)
        position = (rank, start + len(pieces))
        pieces.append(_Candidate(sentence, position, hint=hint, item=is_item))
    return pieces


def _score(
    candidate: _Candidate,
    wanted: list[frozenset[str]],
    intent: Intent,
    cases: tuple[Case, ...],
    passages: Sequence[ScoredChunk],
    documents: list[str],
) -> None:
    chunk = passages[candidate.position[0]].chunk
    sentence = candidate.sentence
    candidate.folded = fold(sentence.text)
    context = fold(" ".join((chunk.title, chunk.heading, candidate.hint, *sentence.context)))
    if wanted:
        words = _share(wanted, set(_encoder.tokens(sentence.text)))
        around = _share(wanted, set(_encoder.tokens(context)))
    else:
        words = around = 0.0
    candidate.overlap = max(words, around)
    # The documents to bring are the items of a list headed « Pièces à fournir »: headings
    # count for that intent only.
    labels = (chunk.heading, *sentence.context) if intent == "documents" else sentence.context
    cue = intent_cue(fold(" ".join((*labels, sentence.text))), intent)
    if intent == "documents" and candidate.item and cue > 0:
        cue = 1.0  # a list of papers answers « quels papiers » better than a sentence
    base = _WEIGHTS["words"] * words + _WEIGHTS["context"] * around + _WEIGHTS["cue"] * cue
    if cue == 0:
        base *= _FACT_INTENTS.get(intent, 1.0)
    case = case_weight(f"{context} {candidate.folded}", cases)
    prior = 1.0 / (1.0 + PRIOR_DECAY * documents.index(chunk.document_id))
    candidate.score = base * case * prior
    candidate.stems = set(_encoder.tokens(sentence.text))


def _choose(candidates: list[_Candidate], limit: int) -> list[_Candidate]:
    """The best sentence, then those close to it (at most two documents), no repetition."""
    ranked = sorted(candidates, key=lambda c: (-c.score, c.position))
    if not ranked or ranked[0].score <= 0:
        return []
    best = ranked[0]
    chosen: list[_Candidate] = []
    for candidate in ranked:
        if len(chosen) == limit or candidate.score < KEEP_RATIO * best.score:
            break
        other = candidate.sentence.document_id != best.sentence.document_id
        if other and (
            candidate.score < OTHER_DOCUMENT_RATIO * best.score
            or len({c.sentence.document_id for c in chosen} | {candidate.sentence.document_id}) > 2
        ):
            continue
        if candidate.overlap < MIN_OVERLAP or any(_repeats(candidate, c) for c in chosen):
            continue
        chosen.append(candidate)
    return chosen


def _repeats(candidate: _Candidate, kept: _Candidate) -> bool:
    """Whether ``candidate`` says what ``kept`` already says (a fiche's summary and its text)."""
    if candidate.folded in kept.folded or kept.folded in candidate.folded:
        return True
    smaller = min(len(candidate.stems), len(kept.stems))
    return bool(smaller) and len(candidate.stems & kept.stems) / smaller >= _REPEAT_OVERLAP


def _in_reading_order(chosen: list[_Candidate]) -> list[_Candidate]:
    """Grouped by document (best document first), in the passages' own order inside each."""
    documents = list(dict.fromkeys(c.sentence.document_id for c in chosen))
    return sorted(chosen, key=lambda c: (documents.index(c.sentence.document_id), c.position))


def _sources(chosen: list[_Candidate], passages: Sequence[ScoredChunk]) -> list[CitedSource]:
    """One source per distinct document, named by the section of its best sentence."""
    sources: list[CitedSource] = []
    for candidate in chosen:  # best first
        document = candidate.sentence.document_id
        if any(source.document_id == document for source in sources):
            continue
        chunk = passages[candidate.sentence.passage - 1].chunk
        citations = sorted(
            {c.sentence.passage for c in chosen if c.sentence.document_id == document}
        )
        sources.append(
            CitedSource(
                document_id=document,
                title=chunk.title,
                section=chunk.heading if chunk.heading != chunk.title else "",
                url=chunk.url,
                attribution=chunk.attribution,
                citations=tuple(citations),
            )
        )
    return sources


def _pointer(source: CitedSource, passages: Sequence[ScoredChunk]) -> str:
    """The line that sends the resident to the page for everything the answer leaves out."""
    where = (
        "sur service-public.fr"
        if passages[source.citations[0] - 1].chunk.source == "service-public"
        else "sur le site de la commune"
    )
    return (
        f"Pour le détail selon votre situation, consultez la page « {source.title} » "
        f"{where} [{source.citations[0]}]."
    )

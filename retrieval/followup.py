"""Follow-up questions searched with what the conversation is about, without a model.

Residents ask in turns: « Il faut combien de temps pour avoir un passeport ? » then « et ça
coûte combien pour un bébé ? ». Searched alone, the second message has no topic: it finds a
fiche on family benefits. :func:`plan_search` reads the *shape* of a message, with rules that
cost microseconds on CPU and say why:

* its *topic words*: the content words left once the words every question uses are set aside
  (what it asks: « combien », « délai », « papiers »; whose case: « bébé », « mon fils »;
  « faire », « possible », « en ligne »...). « Et pour un enfant ? » has none; « quels sont
  les horaires de la mairie ? » has two;
* whether it *continues* the previous one: it opens with « et », « mais », « et si », « dans ce
  cas », « pareil »...

A message is a **follow-up** when there is a previous question and it either continues it with
at most :data:`MAX_OWN_TOPIC_WORDS` topic words of its own (« et si je viens de déménager ? »),
or points back to it (« ça », « le faire », « je dois l'amener où ? ») with at most one, or has
no topic word at all yet asks something (an intent or a case: « quels papiers ? »). Anything
else is a new question, searched alone: the conversation's past does not leak into an
unrelated search, and « merci » stays « merci ».

A follow-up is searched with the question(s) it follows put before it, whole (« Il faut
combien de temps pour avoir un passeport ? et ça coûte combien pour un bébé ? »): their words
beyond the topic (« perdu », « traîne devant chez moi ») keep the search on the same document.
When it has no topic of its own, the documents the previous answer cited are favoured too
(:func:`favour_documents`): they gain :data:`DOCUMENT_BONUS` in the fused ranking, as much as a
first place in one search method, when the search finds them at all. Measured on
``bench/bench_followups.py`` (18 conversations, full index): turn 2's document among the first
3 sources in 15 of 18 this way, 14 with the topic words only, 4 searched alone.

The answer is composed for the topic words and the follow-up (:attr:`SearchPlan.words`, « passeport
et ça coûte combien pour un bébé ? »), so that the sentences chosen answer what the follow-up
asks, not the question before it; with the follow-up's own intent and case when it names them,
the previous question's otherwise (:attr:`SearchPlan.reading`): « et pour un enfant ? » after a
delay question asks the delay for a child.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from foundation.french import fold
from retrieval.fusion import RRF_K
from retrieval.question_intent import QuestionReading, any_of, named_intent, read_question
from retrieval.sparse import FrenchSparseEncoder
from retrieval.types import ScoredChunk

#: A message that continues the previous one may name this many topic words of its own
#: (« et si je viens de déménager ? »); with more it is a question of its own.
MAX_OWN_TOPIC_WORDS = 2
#: Longer messages are questions of their own, whatever their shape.
MAX_FOLLOWUP_WORDS = 14
#: Earlier questions a follow-up may draw its topic from (a chain of follow-ups included).
MAX_EARLIER_QUESTIONS = 3
#: Added to the fused score of the previous answer's documents: one first place in a method.
DOCUMENT_BONUS = 1.0 / (RRF_K + 1)

#: Words that say what a question asks, whose case it is, or how, but not what it is about.
#: Compared by stem, so « coûte », « coûter » and « coût » are one entry.
GENERIC_WORDS = """
    combien cout couter coute prix tarif tarifs payant payante payer paye gratuit gratuite cher
    montant frais euros timbre fiscal
    temps delai delais duree jours semaines mois longtemps prend prendre vite rapide rapidement
    urgence urgent attendre attente valable validite
    papiers papier documents document pieces piece justificatif justificatifs fournir apporter
    dossier photo photos
    ou aller adresser endroit lieu guichet bureau service ligne internet place sur-place
    rendez-vous rdv
    enfant enfants bebe bebes nourrisson nouveau-ne fils fille mineur mineure mineurs majeur
    majeure adulte adultes ado ados adolescent adolescente ans age moi lui elle eux mari femme
    conjoint epoux epouse
    faire fait obtenir avoir demander demande besoin falloir possible droit obligatoire
    autorise marche procedure demarche demarches etape etapes savoir dire veux voudrais
    aimerais pouvoir puis-je dois faut doit peut peux oui non merci bonjour svp stp
    alors aussi pareil cas situation encore ensuite apres avant meme chose quoi combien
    comment quand pourquoi lequel laquelle lesquels quelqu'un personne
    viens vient venir suis etais accord ok bien tres beaucoup reponse fais font passe va vais
    refaire renouveler remplacer recuperer retirer
"""

_CONTINUES = re.compile(
    r"^(?:et|mais|alors|aussi|sinon|pareil|idem|meme chose|dans ce cas|dans ces cas|"
    r"(?:ok|d'accord|merci|tres bien|bien)\s*[,.!]?\s*(?:et|mais)|et si|et pour|et en|et avec)\b"
)
#: Pronouns and ellipses that point back to what was said (« c'est payant ? », « le faire »,
#: « je dois l'amener où ? »).
_POINTS_BACK = any_of(
    r"\b(?:ca|cela|c'est|ce sera|celui-ci|celle-ci|celui|celle|y aller|en ligne)\b",
    r"\b(?:le|la|les) (?:faire|demander|refaire|renouveler|recuperer|obtenir|retirer|amener|"
    r"apporter|deposer|envoyer|inscrire|payer|jeter|changer)\b",
    r"\bl'[a-z]+(?:er|ir|re)\b",
)
_WORD = re.compile(r"[^\W_][\w'’-]*")

_encoder = FrenchSparseEncoder()
_GENERIC_STEMS = frozenset(_encoder.tokens(GENERIC_WORDS))


@dataclass(frozen=True)
class PreviousTurn:
    """One earlier turn of the conversation, as a follow-up needs it.

    Attributes:
        question: What the resident asked.
        documents: Ids of the documents the answer cited, best first (empty when it cited none).
    """

    question: str
    documents: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchPlan:
    """What a message is searched with, and how its answer is read.

    Attributes:
        question: The resident's message, as written.
        query: What is searched: the message itself, or, for a follow-up, the question(s) it
            follows, then the message.
        followup: The message follows the previous question.
        context_documents: Documents of the previous answer that the search favours.
        reading: The intent and case the answer is composed for.
        words: What the answer is composed for: the message itself, or, for a follow-up, the
            topic words of the question(s) it follows, then the message.
    """

    question: str
    query: str
    followup: bool
    context_documents: tuple[str, ...]
    reading: QuestionReading
    words: str


def topic_words(text: str) -> list[str]:
    """The words of ``text`` that say what it is about, as written, in order, once each.

    >>> topic_words("Il faut combien de temps pour avoir un passeport ?")
    ['passeport']
    """
    found: dict[str, str] = {}
    for word in _WORD.findall(text):
        stems = [stem for stem in _encoder.tokens(word) if stem not in _GENERIC_STEMS]
        stems = [stem for stem in stems if not stem.isdigit()]
        if stems and stems[0] not in found:
            found[stems[0]] = word
    return list(found.values())


def is_followup(question: str) -> bool:
    """Whether ``question`` reads as following an earlier one (see the module docstring)."""
    folded = fold(question)
    if len(folded.split()) > MAX_FOLLOWUP_WORDS:
        return False
    own = topic_words(question)
    if _CONTINUES.search(folded):
        return len(own) <= MAX_OWN_TOPIC_WORDS
    if _POINTS_BACK.search(folded):
        return len(own) <= 1
    if own:
        return False
    return named_intent(question) is not None or bool(read_question(question).cases)


def plan_search(question: str, earlier: Sequence[PreviousTurn] = ()) -> SearchPlan:
    """How to search ``question``, given the conversation's earlier turns (oldest first).

    The topic is taken from the latest earlier question that has one and from the follow-ups
    asked since (at most :data:`MAX_EARLIER_QUESTIONS`).
    """
    alone = SearchPlan(question, question, False, (), read_question(question), question)
    if not earlier or not is_followup(question):
        return alone
    thread = _thread(earlier)
    topic = list(dict.fromkeys(word for turn in thread for word in topic_words(turn.question)))
    if not topic:
        return alone
    documents: tuple[str, ...] = ()
    if not topic_words(question):  # a topic of its own: the previous documents may not fit
        documents = next((t.documents for t in reversed(thread) if t.documents), ())
    query = " ".join([*(turn.question for turn in thread), question])
    words = f"{' '.join(topic)} {question}"
    return SearchPlan(question, query, True, documents, _reading(question, thread), words)


def favour_documents(
    candidates: Sequence[ScoredChunk], documents: Sequence[str], bonus: float = DOCUMENT_BONUS
) -> list[ScoredChunk]:
    """``candidates`` (fused, best first) with the chunks of ``documents`` raised by ``bonus``.

    A favoured document must be among the candidates already: nothing is added, and the
    chunks of one document keep their order.
    """
    if not documents:
        return list(candidates)
    favoured = set(documents)
    order = {id(c): position for position, c in enumerate(candidates)}

    def key(candidate: ScoredChunk) -> tuple[float, int]:
        raised = candidate.chunk.document_id in favoured
        return (-(candidate.score + (bonus if raised else 0.0)), order[id(candidate)])

    return sorted(candidates, key=key)


def _thread(earlier: Sequence[PreviousTurn]) -> list[PreviousTurn]:
    """The earlier turns the latest message follows: back to the last one with a topic of its
    own, oldest first."""
    thread: list[PreviousTurn] = []
    for turn in reversed(earlier[-MAX_EARLIER_QUESTIONS:]):
        thread.insert(0, turn)
        if not is_followup(turn.question) and topic_words(turn.question):
            break
    return thread


def _reading(question: str, thread: Sequence[PreviousTurn]) -> QuestionReading:
    """The follow-up's own intent and case where it names them, else those it follows."""
    own = read_question(question)
    intent = named_intent(question)
    cases = own.cases
    for turn in reversed(thread):
        if intent is None:
            intent = named_intent(turn.question)
        if not cases:
            cases = read_question(turn.question).cases
    return QuestionReading(intent or own.intent, cases)

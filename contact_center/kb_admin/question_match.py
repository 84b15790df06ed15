"""Whether a resident's question asks what a pinned question asks (validated answers).

A validated answer is given without retrieval, so a false match shows a resident the answer to
another question. The multilingual e5 embeddings put every French administrative question at a
cosine of 0.83-0.98 from every other one (« Qui est le maire ? » scored 0.929 against « Quels
sont les horaires de la mairie ? », « Comment résilier ma carte de stationnement résidentiel ? »
0.959 against « Comment obtenir une carte de stationnement résidentiel ? »), so the cosine only
shortlists; the words decide, in both directions (:func:`asks_the_same`):

* **The variant's words must be said.** Every content word of the pinned question or paraphrase
  (stemmed, stop words and question words removed) must be in the resident's question, directly
  or through the residents' words of :mod:`retrieval.lexicon` (« matelas » says « encombrants »,
  « jeter » says « déposer ») or the same action (« demander » says « obtenir »). « Qui est le
  maire ? » does not say « horaires »; « carte d'identité » does not say « stationnement
  résidentiel ». Only a near-verbatim rewording (cosine at least :data:`STRICT_COSINE`) may leave
  one unsaid: « mon fils » for « mon enfant » (0.990).
* **The question's words must be in the variant**, at least :data:`MIN_WORD_COVERAGE` of them:
  « les horaires d'ouverture de la mairie » may add a word to the variant's two, a question that
  says much more than the variant asks something else.
* **The question asks for no other action.** An administrative action of the question
  (:data:`ACTIONS`: obtain, cancel, renew, change, register...) that the variant does not name
  blocks the match at any cosine: « résilier » is not « obtenir », « désinscrire » not
  « inscrire ».

Measured on the labelled pairs of tests/contact_center/kb_admin/test_validated_answers.py: the
rewordings that leave one variant word unsaid score 0.990 (« fils ») and 0.993 (« avoir », a stop
word, for « obtenir »); the unrelated questions that leave one word unsaid and ask no other
action at most 0.961 (« Quel est le prix de la carte de stationnement résidentiel ? »). The
action check alone stops questions up to 0.977 (« Comment désinscrire mon enfant de la
cantine ? »), closer than the loosest rewording (0.954, « Où jeter un vieux canapé ? », which
the lexicon lets in). Every pair lands on its side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from retrieval.lexicon import ResidentLexicon
from retrieval.sparse import FrenchSparseEncoder

#: Below this cosine a question never matches: the shortlist.
LOOSE_COSINE = 0.90
#: From this cosine a question may leave one of the variant's words unsaid (a synonym the
#: lexicon does not know): measured 0.990-0.993 for such rewordings, at most 0.961 otherwise.
STRICT_COSINE = 0.97
#: The share of the question's content words that the variant must hold.
MIN_WORD_COVERAGE = 2 / 3
#: Question words that say nothing about the subject (stems).
QUESTION_WORDS = frozenset(
    "quel quell quels quelles comment combien quand pourquoi ou est faut peut puis dois doit "
    "fair veux voudr".split()
)
#: Administrative actions, by family: the words of one family ask for the same thing, a word of
#: another family asks for something else.
ACTIONS: dict[str, tuple[str, ...]] = {
    "obtain": ("obtenir", "demander", "demande", "refaire", "établir", "délivrer", "délivrance"),
    "cancel": ("résilier", "résiliation", "annuler", "annulation", "arrêter", "supprimer"),
    "renew": ("renouveler", "renouvellement", "prolonger", "prolongation"),
    "change": ("modifier", "modification", "changer", "changement"),
    "register": ("inscrire", "inscription"),
    "unregister": ("désinscrire", "désinscription"),
    "pay": ("payer", "paiement", "rembourser", "remboursement"),
    "contest": ("contester", "contestation"),
}


@dataclass(frozen=True)
class QuestionWords:
    """The content words of a question (stems): what each one is, and what it stands for."""

    #: stem -> what the word is: the stem, the lexicon rule that holds it (its synonyms in
    #: residents' words have the same), its action family.
    names: dict[str, frozenset[str]]
    #: stem -> the official words the lexicon gives it (« matelas »: encombr, decheter...).
    official: dict[str, frozenset[str]]
    #: The action families the question names.
    actions: frozenset[str]

    def says(self, names: frozenset[str], official: frozenset[str]) -> bool:
        """Whether the question says the word with these names and official words.

        It does when one of its words is that word, its synonym or one of its official words
        (« encombrants » for « canapé »), or has it as official word (« matelas » says
        « encombrants »). Two words that merely share an official word are not the same
        (« poubelle » and « canapé » both lead to « collecte »).
        """
        mine = frozenset().union(*self.names.values())
        return bool(names & mine or official & mine or names & self._all_official())

    def _all_official(self) -> frozenset[str]:
        return frozenset().union(*self.official.values())


class QuestionReader:
    """Reads questions into :class:`QuestionWords` with the project's French tokenizer.

    Args:
        sparse: The French tokenizer (stems, stop words removed).
        lexicon: The residents' words in force.
    """

    def __init__(self, sparse: FrenchSparseEncoder, lexicon: ResidentLexicon) -> None:
        self._sparse = sparse
        self._lexicon = lexicon
        self._actions = {
            stem: f"action:{family}"
            for family, words in ACTIONS.items()
            for stem in self._stems(words)
        }

    def read(self, text: str) -> QuestionWords:
        """The content words of ``text``, what each is and what it stands for."""
        stems = [stem for stem in self._sparse.tokens(text) if stem not in QUESTION_WORDS]
        names = {stem: {stem} for stem in stems}
        official: dict[str, set[str]] = {stem: set() for stem in stems}
        for expression, words in self._lexicon.expand(text).matched:
            for stem in self._sparse.tokens(expression):
                names.setdefault(stem, {stem}).add("rule:" + "|".join(words))
                official.setdefault(stem, set()).update(self._stems(words))
        for stem, named in names.items():
            if stem in self._actions:
                named.add(self._actions[stem])
        return QuestionWords(
            {stem: frozenset(named) for stem, named in names.items()},
            {stem: frozenset(words) for stem, words in official.items()},
            frozenset(self._actions[stem] for stem in names if stem in self._actions),
        )

    def _stems(self, words: Iterable[str]) -> set[str]:
        return {stem for word in words for stem in self._sparse.tokens(word)}


def asks_the_same(question: QuestionWords, variant: QuestionWords, cosine: float) -> bool:
    """Whether ``question`` asks what ``variant`` asks, at this cosine (see the module)."""
    if cosine < LOOSE_COSINE or not question.names or question.actions - variant.actions:
        return False
    unsaid = _unsaid(variant, question)
    if unsaid and (cosine < STRICT_COSINE or len(unsaid) > 1):
        return False
    in_variant = len(question.names) - len(_unsaid(question, variant))
    return in_variant / len(question.names) >= MIN_WORD_COVERAGE


def _unsaid(words: QuestionWords, by: QuestionWords) -> list[str]:
    """The stems of ``words`` that ``by`` does not say."""
    return [w for w in words.names if not by.says(words.names[w], words.official[w])]

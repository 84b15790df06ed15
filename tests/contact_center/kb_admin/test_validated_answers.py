"""Calibration of validated-answer matching on labelled pairs, with the real default embedder.

A validated answer is given at once, without retrieval, when a resident's question is close
enough to a pinned question or paraphrase (:meth:`ValidatedAnswers.match`). A miss costs only
the usual grounded answer; a false match gives a resident an answer to another question. These
pairs measure both sides of the thresholds (``STRICT_COSINE``, ``LOOSE_COSINE``,
``MIN_WORD_COVERAGE``); the false matches measured today are marked as known failures (strict:
a fix turns them into failures until the mark goes).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from contact_center.agents.audit import AuditLog
from contact_center.db import Database, migrate
from contact_center.kb_admin.validated_answers import LOOSE_COSINE, ValidatedAnswers
from retrieval.embeddings import Embedder
from retrieval.sparse import FrenchSparseEncoder

#: Pinned questions (and paraphrases) of the demo town, by a short key.
PINNED = {
    "hours": ("Quels sont les horaires de la mairie ?", ["À quelle heure ouvre la mairie ?"]),
    "canteen": ("Comment inscrire mon enfant à la cantine ?", []),
    "bulky": ("Où déposer les encombrants ?", ["Comment se débarrasser d'un vieux canapé ?"]),
    "parking": ("Comment obtenir une carte de stationnement résidentiel ?", []),
}
#: Residents' rewordings: each must get the answer of its key.
REWORDINGS = [
    ("quels sont les horaires de la mairie", "hours"),
    ("Quels sont les horaires d'ouverture de la mairie ?", "hours"),
    ("A quelle heure ouvre la mairie ?", "hours"),
    ("La mairie ouvre à quelle heure ?", "hours"),
    ("Comment inscrire mon enfant à la cantine scolaire ?", "canteen"),
    ("Comment inscrire mon fils à la cantine ?", "canteen"),
    ("Où faut-il déposer les encombrants ?", "bulky"),
    ("où déposer mes encombrants", "bulky"),
    ("Comment obtenir la carte de stationnement résidentiel ?", "parking"),
]
#: Other questions, as close in wording as residents' questions get: none may match.
UNRELATED = [
    "Quels sont les horaires de la piscine ?",
    "Quels sont les horaires de la médiathèque ?",
    "Quels sont les horaires du cimetière ?",
    "Comment inscrire mon enfant au centre de loisirs ?",
    "Où déposer mes déchets verts ?",
    "Où déposer une plainte ?",
    "Quel est le prix de la cantine ?",
]
#: Unrelated questions that the thresholds let through today, and the answer they get.
FALSE_MATCHES_TODAY = [
    ("Qui est le maire ?", "hours"),  # every content word (« maire ») is in the variant
    ("Comment inscrire mon enfant à l'école ?", "canteen"),
    ("Comment obtenir une carte d'identité ?", "parking"),
    ("Comment obtenir une carte d'électeur ?", "parking"),
    ("Comment résilier ma carte de stationnement résidentiel ?", "parking"),
]


@pytest.fixture(scope="module")
def matcher(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[tuple[ValidatedAnswers, dict[str, str]]]:
    """The pinned answers in a fresh database; also their ids -> keys."""
    folder: Path = tmp_path_factory.mktemp("validated")
    database = Database(f"sqlite:///{folder / 'cc.db'}")
    migrate(database.engine)
    answers = ValidatedAnswers(database, AuditLog(database), embedder, FrenchSparseEncoder())
    keys = {}
    for key, (question, paraphrases) in PINNED.items():
        content = {"question": question, "paraphrases": paraphrases, "answer": f"Réponse {key}."}
        keys[answers.save("demo", "calibration", content).id] = key
    yield answers, keys
    database.dispose()


def matched_key(matcher: tuple[ValidatedAnswers, dict[str, str]], question: str) -> str | None:
    answers, keys = matcher
    match = answers.match(question, "demo")
    return keys[match.answer.id] if match else None


def best_cosine(embedder: Embedder, question: str) -> float:
    variants = [text for question, others in PINNED.values() for text in [question, *others]]
    vectors = np.stack([embedder.embed_query(text) for text in variants])
    return float(np.max(vectors @ np.asarray(embedder.embed_query(question))))


@pytest.mark.slow
def test_every_rewording_gets_its_validated_answer(
    matcher: tuple[ValidatedAnswers, dict[str, str]],
) -> None:
    got = [(question, matched_key(matcher, question)) for question, _ in REWORDINGS]
    assert got == REWORDINGS


@pytest.mark.slow
def test_unrelated_questions_get_no_validated_answer(
    matcher: tuple[ValidatedAnswers, dict[str, str]],
) -> None:
    assert {question: matched_key(matcher, question) for question in UNRELATED} == dict.fromkeys(
        UNRELATED
    )


@pytest.mark.slow
def test_the_cosine_alone_cannot_tell_them_apart(embedder: Embedder) -> None:
    # Every unrelated question is within the loose cosine of some pinned variant: only the
    # word coverage keeps it out. Measured: 0.91-0.94 for them, 0.96-1.00 for the rewordings.
    assert all(best_cosine(embedder, question) >= LOOSE_COSINE for question in UNRELATED)
    assert all(best_cosine(embedder, question) >= 0.95 for question, _ in REWORDINGS)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True, reason="measured false match: the thresholds let this unrelated question in"
)
@pytest.mark.parametrize(("question", "wrong_answer"), FALSE_MATCHES_TODAY)
def test_known_false_matches(
    matcher: tuple[ValidatedAnswers, dict[str, str]], question: str, wrong_answer: str
) -> None:
    assert matched_key(matcher, question) is None, f"gets the {wrong_answer!r} answer"

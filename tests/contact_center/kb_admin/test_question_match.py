"""The words of the validated-answer rule, at a given cosine (no embedder: the rule alone)."""

from __future__ import annotations

import pytest

from contact_center.kb_admin.question_match import QuestionReader, asks_the_same
from retrieval.lexicon import ResidentLexicon, shipped_lexicon
from retrieval.sparse import FrenchSparseEncoder

PARKING = "Comment obtenir une carte de stationnement résidentiel ?"


@pytest.fixture(scope="module")
def reader() -> QuestionReader:
    return QuestionReader(FrenchSparseEncoder(), shipped_lexicon())


def same(reader: QuestionReader, question: str, variant: str, cosine: float) -> bool:
    return asks_the_same(reader.read(question), reader.read(variant), cosine)


@pytest.mark.parametrize(
    "question",
    [
        "Comment résilier ma carte de stationnement résidentiel ?",
        "Comment renouveler ma carte de stationnement résidentiel ?",
        "Comment payer ma carte de stationnement résidentiel ?",
    ],
)
def test_another_action_never_matches_even_at_a_near_verbatim_cosine(
    reader: QuestionReader, question: str
) -> None:
    assert not same(reader, question, PARKING, 0.999)


def test_the_same_action_in_other_words_matches(reader: QuestionReader) -> None:
    question = "Comment demander une carte de stationnement résidentiel ?"
    assert same(reader, question, PARKING, 0.95)


def test_a_word_of_the_variant_left_unsaid_needs_a_near_verbatim_cosine(
    reader: QuestionReader,
) -> None:
    variant = "Comment inscrire mon enfant à la cantine ?"
    assert same(reader, "Comment inscrire mon fils à la cantine ?", variant, 0.99)
    assert not same(reader, "Comment inscrire mon enfant à l'école ?", variant, 0.95)
    # « horaires » is the question the variant asks; « maire » alone does not ask it.
    assert not same(reader, "Qui est le maire ?", "Quels sont les horaires de la mairie ?", 0.95)


def test_residents_words_say_the_official_ones(reader: QuestionReader) -> None:
    variant = "Où déposer les encombrants ?"
    assert same(reader, "Où jeter mon vieux matelas ?", variant, 0.92)
    without = QuestionReader(FrenchSparseEncoder(), ResidentLexicon([]))
    assert not asks_the_same(
        without.read("Où jeter mon vieux matelas ?"), without.read(variant), 0.92
    )


def test_words_that_only_share_an_official_word_are_not_the_same(reader: QuestionReader) -> None:
    # « poubelles » and « canapé » both lead to « collecte » in the lexicon.
    variant = "Comment se débarrasser d'un canapé ?"
    assert not same(reader, "Comment se débarrasser d'une poubelle ?", variant, 0.95)

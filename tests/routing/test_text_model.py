"""The words the request classifier sees: residents' spellings of one request look the same."""

from __future__ import annotations

from routing.text_model import char_ngrams, text_words


def test_accents_apostrophes_and_ligatures_do_not_change_the_words() -> None:
    typed = text_words("J’ai perdu la carte d’identité de ma SŒUR")
    assert typed == text_words("jai perdu la carte didentite de ma soeur")
    assert typed == ["jai", "perdu", "la", "carte", "didentite", "de", "ma", "soeur"]


def test_a_message_without_words_has_no_ngrams() -> None:
    assert text_words(" ?! … ") == []
    assert char_ngrams(text_words("?")) == []


def test_ngrams_stay_inside_each_word() -> None:
    grams = char_ngrams(text_words("un tag"))
    assert " un " in grams and " tag " in grams
    assert not any(" " in gram.strip() for gram in grams)

"""French text folding, words and cue matching: residents' spellings must meet our lists."""

from __future__ import annotations

import pytest

from foundation.french import first_cue, fold, strip_accents, words

NBSP, NARROW_NBSP = "\u00a0", "\u202f"


# --- folding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ÉTÉ", "ete"),
        ("Où", "ou"),
        ("L'œuvre", "l'oeuvre"),
        ("ŒUVRE ÆGIS", "oeuvre aegis"),
        ("aujourd’hui", "aujourd'hui"),
        ("l‘eau lʼeau l`eau l´eau", "l'eau l'eau l'eau l'eau"),
        (f"Pièce{NBSP}d’identité{NARROW_NBSP}?", "piece d'identite ?"),
        ("  Rue\tdes\n\nLilas  ", "rue des lilas"),
        ("ﬁche ℌ", "fiche h"),
    ],
)
def test_fold_gives_one_form_for_every_spelling(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_keeps_punctuation_for_patterns() -> None:
    assert fold("Qu’est-ce que c’est ?") == "qu'est-ce que c'est ?"


def test_strip_accents_only_lowercases_and_removes_diacritics() -> None:
    assert strip_accents("Pièce d'IDENTITÉ, Île-de-France") == "piece d'identite, ile-de-france"
    assert strip_accents("L’œuvre") == "l’œuvre"  # what the stored BM25 terms were built on


# --- words -------------------------------------------------------------------------------------


def test_words_split_at_anything_but_letters_and_digits() -> None:
    assert words("Mairie   d'Arrondissement, 1er étage") == [
        "mairie",
        "d",
        "arrondissement",
        "1er",
        "etage",
    ]
    assert words(f"Île-de-France{NBSP}2024") == ["ile", "de", "france", "2024"]
    assert words("« … »") == []


def test_words_can_join_elisions_as_residents_type_them() -> None:
    assert words("J’ai perdu ma carte d’identité", join_elisions=True) == [
        "jai",
        "perdu",
        "ma",
        "carte",
        "didentite",
    ]
    assert words("jai perdu ma carte didentite", join_elisions=True) == words(
        "J'ai perdu ma carte d'identité", join_elisions=True
    )


def test_words_match_with_or_without_the_ligature() -> None:
    assert words("Cœur de ville") == words("coeur de ville") == ["coeur", "de", "ville"]


# --- cue matching ------------------------------------------------------------------------------


def test_a_cue_fires_only_as_a_whole_word() -> None:
    assert first_cue(fold("Il y a un tag sur le mur"), ("tag",)) == "tag"
    assert first_cue(fold("Au troisième étage, l'ascenseur"), ("tag",)) is None
    assert first_cue(fold("Non merci"), ("non",)) == "non"
    assert first_cue(fold("nonante-deux"), ("non",)) is None
    assert first_cue(fold("TAG !"), ("tag",)) == "tag"


def test_multi_word_cues_match_across_any_spacing_and_accents() -> None:
    cues = ("ne marche plus", "parler a un agent")
    assert first_cue(fold(f"Le lampadaire ne{NBSP}marche   PLUS"), cues) == "ne marche plus"
    assert first_cue(fold("Je veux parler à un agent."), cues) == "parler a un agent"
    assert first_cue(fold("ne marche plusieurs fois"), cues) is None


def test_cues_are_tried_in_order_and_may_hold_apostrophes() -> None:
    cues = ("n'a pas ete ramasse", "ramasse")
    text = fold("Le bac n’a pas été ramassé")
    assert first_cue(text, cues) == "n'a pas ete ramasse"
    assert first_cue(text, tuple(reversed(cues))) == "ramasse"


def test_a_cue_glued_to_an_elision_does_not_fire() -> None:
    # « n'importe » must not read as the cue « importe ».
    assert first_cue(fold("n’importe quoi"), ("importe",)) is None

"""BM25 sparse vectors: residents' spellings must reach the fiches' words."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from retrieval.sparse import K1, FrenchSparseEncoder, SparseVec, term_index


@pytest.fixture(scope="module")
def encoder() -> FrenchSparseEncoder:
    return FrenchSparseEncoder()


def overlap(query: SparseVec, document: SparseVec) -> set[int]:
    return set(query.indices) & set(document.indices)


def test_question_without_accents_matches_accented_passage(encoder: FrenchSparseEncoder) -> None:
    document = encoder.encode_document("Renouvellement des cartes d'identité perdues")
    query = encoder.encode_query("carte identite perdue")
    assert set(query.indices) <= set(document.indices)


def test_elisions_and_stop_words_are_dropped(encoder: FrenchSparseEncoder) -> None:
    tokens = encoder.tokens("Qu'est-ce que l'état d'urgence ? J'aimerais le savoir aujourd’hui")
    assert "qu" not in tokens and "l" not in tokens and "d" not in tokens
    assert {"que", "est", "ce", "le"}.isdisjoint(tokens)
    assert encoder.tokens("l'état") == encoder.tokens("état") == encoder.tokens("Etat")


def test_inflections_share_a_stem(encoder: FrenchSparseEncoder) -> None:
    assert encoder.tokens("perdue") == encoder.tokens("perdu")
    assert encoder.tokens("passeports") == encoder.tokens("passeport")
    assert encoder.tokens("démarches") == encoder.tokens("demarche")


def test_unrelated_words_do_not_match(encoder: FrenchSparseEncoder) -> None:
    document = encoder.encode_document("Carte d'identité d'un majeur : en cas de perte")
    assert not overlap(encoder.encode_query("recette de la blanquette de veau"), document)


def test_term_indices_are_stable_across_processes() -> None:
    # blake2b of the stem: must never change, or every index built before would be unreadable
    assert term_index("cart") == term_index("cart") == 810221866
    assert 0 <= term_index("identit") < 2**31


def test_document_weights_saturate_and_normalise_length(encoder: FrenchSparseEncoder) -> None:
    once = encoder.encode_document("mairie")
    often = encoder.encode_document("mairie " * 20)
    assert once.values[0] < often.values[0] < K1 + 1
    padded = encoder.encode_document("mairie " + "horaires ouverture guichet " * 30)
    index = padded.indices.index(once.indices[0])
    assert padded.values[index] < once.values[0]


def test_query_vector_has_weight_one_per_unique_sorted_term(encoder: FrenchSparseEncoder) -> None:
    query = encoder.encode_query("carte carte cartes identité")
    assert query.values == [1.0, 1.0]
    assert query.indices == sorted(query.indices)


def test_empty_and_stop_word_only_texts_give_empty_vectors(encoder: FrenchSparseEncoder) -> None:
    assert len(encoder.encode_query("")) == 0
    assert len(encoder.encode_document("le la les de du")) == 0


def test_bigrams_add_pair_terms_when_enabled() -> None:
    plain, pairs = FrenchSparseEncoder(), FrenchSparseEncoder(bigrams=True)
    text = "carte grise perdue"
    assert len(pairs.encode_query(text)) == len(plain.encode_query(text)) + 2
    assert sorted(pairs.encode_query(text).values) == [0.5, 0.5, 1.0, 1.0, 1.0]


#: Terms of tricky spellings as the indexes built so far hold them (computed before the folding
#: moved to foundation.french). They must never change: a query would miss the stored passages.
#: « œ » is not expanded (« L'œuvre » -> ``uvre``), « où » and « été » are stop words.
STORED_TERMS = {
    "L'œuvre": ["uvre"],
    "Où": [],
    "ÉTÉ": [],
    "aujourd’hui": ["aujourd", "hui"],
    "Pièce\u00a0d’identité": ["piec", "identit"],
    "Cœur\u202fde\u00a0ville": ["ur", "vill"],
    "Qu’est-ce que l’ÉTAT d’urgence ?": ["etat", "urgenc"],
    "ŒUVRE ÆGIS œcuménique": ["uvre", "gis", "cumen"],
    "l`eau l´eau": ["eau", "eau"],
    "ﬁche ｃａｒｔｅ ²": ["fich", "cart", "2"],
    "jusqu’à lorsqu'il": [],
    "  double   espace\tet\nligne ": ["doubl", "espac", "lign"],
    "Île-de-France 2024": ["ile", "franc", "2024"],
}


@pytest.mark.parametrize(("text", "terms"), STORED_TERMS.items())
def test_tricky_spellings_give_the_terms_stored_in_existing_indexes(
    encoder: FrenchSparseEncoder, text: str, terms: list[str]
) -> None:
    assert encoder.tokens(text) == terms
    assert encoder.encode_query(text).indices == sorted({term_index(t) for t in terms})


def test_a_ligature_word_keeps_its_stored_index(encoder: FrenchSparseEncoder) -> None:
    # The index of « L'œuvre » in every vector stored so far.
    assert encoder.encode_query("L'œuvre").indices == [1001948107]


def test_one_encoder_stems_for_many_residents_at_once() -> None:
    # Turns are composed in worker threads that share the composer's encoder; the stemmer keeps
    # its word in its own state, so two threads stemming at once corrupted each other's word
    # (IndexError, a resident's turn lost under load).
    stems = ("demand", "renouvel", "inscri", "déclar", "pass")
    endings = ("ation", "ement", "ements", "ions", "issement", "eraient", "ités")
    words = [f"{stem}{ending}" for stem in stems for ending in endings]
    texts = [" ".join(words[i:] + words[:i]) for i in range(len(words))]
    expected = [FrenchSparseEncoder().tokens(text) for text in texts]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as a loaded server does, not 5 ms
    try:
        for _ in range(20):
            shared = FrenchSparseEncoder()  # a fresh cache: every word goes through the stemmer
            with ThreadPoolExecutor(max_workers=8) as pool:
                got = list(pool.map(shared.tokens, texts * 4))
            assert got == expected * 4
    finally:
        sys.setswitchinterval(interval)

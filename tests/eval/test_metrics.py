"""Every metric against values computed by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math
import sys

import pytest

from eval import text_metrics
from eval.metrics import (
    ConfusionMatrix,
    abstention_accuracy,
    accuracy,
    cer,
    citation_correctness,
    cited_passages,
    confusion_matrix,
    corpus_wer,
    energy_wh,
    energy_wh_per_answer,
    first_relevant_rank,
    lexical_faithfulness,
    mentions_any,
    mrr,
    ndcg_at_k,
    normalize_french,
    normalize_transcript,
    percentile,
    query_ndcg_at_k,
    recall_at_k,
    summarize_latencies,
    unique_ids,
    wer,
)
from eval.text_metrics import content_words, levenshtein, split_sentences
from foundation.errors import ConfigurationError

# Three questions. Q1's ranking repeats F1 (two passages of one document), so after collapsing
# duplicates its relevant F3 is at rank 3, not 4. Q3 has no relevant document (an abstention
# example): it is left out of every retrieval mean.
RANKINGS = [["F1", "F2", "F1", "F3"], ["F9", "F8"], ["F5"]]
RELEVANT = [{"F3"}, {"F8", "F7"}, set()]


# --- retrieval --------------------------------------------------------------------------------


def test_duplicates_collapse_to_their_first_rank() -> None:
    assert unique_ids(["F1", "F2", "F1", "F3"]) == ["F1", "F2", "F3"]
    assert first_relevant_rank(RANKINGS[0], RELEVANT[0]) == 3
    assert first_relevant_rank(RANKINGS[2], {"F0"}) is None


def test_recall_at_k_counts_questions_with_a_hit() -> None:
    # Q1 hit at rank 3, Q2 hit at rank 2, Q3 not scorable: denominators are 2.
    assert recall_at_k(RANKINGS, RELEVANT, 1) == 0.0  # 0 / 2
    assert recall_at_k(RANKINGS, RELEVANT, 2) == 0.5  # Q2 / 2
    # Without collapsing duplicates, F3 would sit at rank 4 and this would be 0.5.
    assert recall_at_k(RANKINGS, RELEVANT, 3) == 1.0  # 2 / 2


def test_recall_with_k_larger_than_the_results() -> None:
    assert recall_at_k(RANKINGS, RELEVANT, 50) == 1.0
    assert recall_at_k([[]], [{"F1"}], 5) == 0.0  # nothing returned: a miss


def test_mrr() -> None:
    # (1/3 + 1/2) / 2 = 5/12
    assert mrr(RANKINGS, RELEVANT) == pytest.approx(5 / 12)
    # With a cut-off at 2, Q1's rank 3 contributes 0: (0 + 1/2) / 2 = 0.25
    assert mrr(RANKINGS, RELEVANT, k=2) == pytest.approx(0.25)


def test_ndcg_at_k() -> None:
    # Q1: DCG = 1/log2(3+1) = 0.5; IDCG over min(|{F3}|, 3) = 1 position = 1/log2(2) = 1 -> 0.5
    assert query_ndcg_at_k(RANKINGS[0], RELEVANT[0], 3) == pytest.approx(0.5)
    # Q2: DCG = 1/log2(2+1) = 0.63093; IDCG over min(2, 3) = 2 positions = 1 + 0.63093
    q2 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert query_ndcg_at_k(RANKINGS[1], RELEVANT[1], 3) == pytest.approx(q2)  # 0.38685
    assert ndcg_at_k(RANKINGS, RELEVANT, 3) == pytest.approx((0.5 + q2) / 2)  # 0.44343
    # k = 1: Q2's IDCG is over min(2, 1) = 1 position, and neither top document is relevant.
    assert ndcg_at_k(RANKINGS, RELEVANT, 1) == 0.0


def test_ndcg_of_a_perfect_ranking_is_one_even_with_k_beyond_the_results() -> None:
    assert query_ndcg_at_k(["a", "b"], {"a", "b"}, 10) == pytest.approx(1.0)
    assert query_ndcg_at_k(["a"], set(), 10) == 0.0


def test_retrieval_metrics_on_empty_input_and_bad_arguments() -> None:
    assert recall_at_k([], [], 5) == 0.0
    assert mrr([], []) == 0.0
    assert ndcg_at_k([], [], 5) == 0.0
    assert recall_at_k([["F1"]], [set()], 5) == 0.0  # only unscorable questions
    with pytest.raises(ValueError, match="k must be"):
        recall_at_k(RANKINGS, RELEVANT, 0)
    with pytest.raises(ValueError, match="rankings"):
        mrr(RANKINGS, RELEVANT[:2])


# --- classification ---------------------------------------------------------------------------

GOLD = ["a", "b", "a", "c"]
PREDICTED = ["a", "a", "a", "c"]


def test_accuracy() -> None:
    assert accuracy(GOLD, PREDICTED) == 0.75  # 3 matches out of 4
    assert accuracy([], []) == 0.0
    with pytest.raises(ValueError):
        accuracy(["a"], [])


def test_confusion_matrix_rows_are_gold_labels_sorted() -> None:
    matrix = confusion_matrix(["b", "a", "a", "c"], ["a", "a", "a", "c"])
    assert matrix == ConfusionMatrix(
        labels=("a", "b", "c"),
        rows=((2, 0, 0), (1, 0, 0), (0, 0, 1)),
    )
    assert matrix.count("b", "a") == 1
    assert confusion_matrix([], []).labels == ()


def test_abstention_accuracy_ignores_handoff_examples() -> None:
    expected = ["answer", "abstain", "abstain", "handoff"]
    abstained = [False, True, False, True]
    # counted: the first three; correct: answer/False and abstain/True -> 2 / 3
    assert abstention_accuracy(expected, abstained) == pytest.approx(2 / 3)
    assert abstention_accuracy(["handoff"], [True]) == 0.0


# --- speech -----------------------------------------------------------------------------------


def test_transcript_normalisation_keeps_accents_and_splits_apostrophes() -> None:
    assert normalize_transcript("Il a dit « l'État-providence », voilà !") == (
        "il a dit l état providence voilà"
    )
    assert normalize_transcript("  C’est   80 % ") == "c est 80"


def test_french_normalisation_reads_numbers_as_words_or_digits_alike() -> None:
    # "12" and "douze" are the same number to a listener: no error in the reported score,
    # one substitution of three words in the raw one.
    assert wer("minuteur douze minutes", "Minuteur 12 minutes.", normalize_french) == 0.0
    assert wer("minuteur douze minutes", "Minuteur 12 minutes.") == pytest.approx(1 / 3)
    assert normalize_french("quatre-vingt-quatorze ans") == normalize_french("94 ans")
    assert normalize_french("Allume la chambre à 80 %") == "allume la chambre à 8 0 pourcent"
    assert normalize_french("80 pour cent") == normalize_french("80 pourcent")


def test_french_normalisation_drops_fillers_and_punctuation_but_keeps_accents() -> None:
    assert normalize_french("Euh… je voudrais l’acte, hum, de naissance !") == (
        "je voudrais l acte de naissance"
    )
    assert wer("à", "a", normalize_french) == 1.0
    # A different number is still an error: digits are words, so 12 -> 13 costs one of four.
    assert corpus_wer(["minuteur 12 minutes"], ["minuteur treize minutes"], normalize_french) == (
        pytest.approx(1 / 4)
    )


def test_without_the_normaliser_the_message_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(text_metrics, "_french_pipeline", None)
    monkeypatch.setitem(sys.modules, "extended_wer_normalizer", None)  # import now fails
    with pytest.raises(ConfigurationError, match=r"pip install -e '\.\[eval\]'"):
        normalize_french("douze")


def test_levenshtein() -> None:
    assert levenshtein("kitten", "sitting") == 3  # k->s, e->i, +g
    assert levenshtein([], ["a", "b"]) == 2


def test_wer() -> None:
    reference = "l'accident a eu lieu hier"  # 6 words: l accident a eu lieu hier
    assert wer(reference, "L'accident a eu lieu, hier !") == 0.0
    # hypothesis "accident a lieu hier soir": delete "l" and "eu", insert "soir" -> 3 / 6
    assert wer(reference, "accident a lieu hier soir") == pytest.approx(0.5)
    assert wer("à", "a") == 1.0  # accents are kept: a different word


def test_cer() -> None:
    assert cer("chat", "chats") == pytest.approx(0.25)  # 1 insertion / 4 characters
    assert cer("été", "ete") == pytest.approx(2 / 3)  # 2 substitutions / 3 characters


def test_error_rates_with_an_empty_reference() -> None:
    # Out-of-vocabulary clips must produce no text at all.
    assert wer("", "") == 0.0
    assert wer("", "  ") == 0.0
    assert wer("", "bonjour") == 1.0
    assert cer("", "oui") == 1.0


def test_corpus_wer_weighs_by_reference_length() -> None:
    # edits 1 ("trois" deleted) + 1 ("quatre" -> "cinq") over 3 + 1 words = 0.5,
    # whereas the mean of the per-clip WERs would be (1/3 + 1) / 2 = 0.667.
    assert corpus_wer(["un deux trois", "quatre"], ["un deux", "cinq"]) == pytest.approx(0.5)
    assert corpus_wer([], []) == 0.0


# --- answers ----------------------------------------------------------------------------------


def test_cited_passages_and_citation_correctness() -> None:
    assert cited_passages("Voir [1] et [2, 3]. Aussi [1][5].") == [1, 2, 3, 5]
    # 1, 2 and 3 exist among 3 passages, 5 does not -> 3 / 4
    assert citation_correctness([1, 2, 3, 5], passage_count=3) == pytest.approx(0.75)
    assert citation_correctness([1, 1, 7], passage_count=3) == pytest.approx(0.5)  # {1, 7}
    assert citation_correctness([0], passage_count=3) == 0.0  # numbering starts at 1
    assert citation_correctness([], passage_count=0) == 1.0  # nothing cited, nothing wrong


PASSAGES = ["La carte d'identité se demande en mairie. Le timbre fiscal coûte 25 euros."]


def test_content_words_drop_stop_words_and_fold_accents() -> None:
    assert content_words("Vous devez faire la demande en mairie") == {"demande", "mairie"}
    assert content_words("Le timbre fiscal coûte 25 euros") == {
        "timbre",
        "fiscal",
        "coute",
        "25",
        "euro",
    }
    assert split_sentences("En mairie [1]. Gratuit !  \nFin") == ["En mairie.", "Gratuit !", "Fin"]


def test_lexical_faithfulness() -> None:
    answer = (
        "Vous devez faire la demande en mairie [1]. "  # {demande, mairie}: 2/2 found
        "Le timbre fiscal coûte 25 euros [1]. "  # {timbre, fiscal, coute, 25, euro}: 5/5
        "Le délai est de trois semaines."  # {delai, troi, semaine}: 0/3
    )
    assert lexical_faithfulness(answer, PASSAGES) == pytest.approx(2 / 3)
    # {demande, mairie, justificatif}: 2/3 = 0.67 >= 0.6 by default, < 0.7
    partly = "La demande se fait en mairie avec un justificatif."
    assert lexical_faithfulness(partly, PASSAGES) == 1.0
    assert lexical_faithfulness(partly, PASSAGES, threshold=0.7) == 0.0
    assert lexical_faithfulness("Bonjour !", []) == 0.0  # "bonjour" is a content word
    assert lexical_faithfulness("", PASSAGES) == 1.0  # nothing claimed


def test_mentions_any_ignores_accents_case_and_punctuation() -> None:
    assert mentions_any("Mairie   d’Arrondissement, 1er étage", ["arrondissement 1er etage"])
    assert mentions_any("Pour l’œuvre de la Ville", ["oeuvre"])  # ligature typed or not
    assert mentions_any("Il faut aller à la MAIRIE.", ["mairie"])
    assert mentions_any("Le timbre coute 25 € en ligne", ["coûte 25"])
    assert mentions_any("Réponse : Oui, en mairie", ["Oui"])
    assert not mentions_any("Louis est venu", ["oui"])  # word boundaries
    # A fact said in its feminine or plural form is said (« indigent », « gratuit »).
    assert mentions_any("Une personne indigente peut le demander", ["indigent"])
    assert mentions_any("La carte est gratuite.", ["gratuit"])
    assert not mentions_any("Une année passe", ["an"])  # only those endings
    assert not mentions_any("En préfecture", ["mairie", "notaire"])
    assert mentions_any("n'importe quoi", [])  # nothing required


# --- latency and energy -----------------------------------------------------------------------


def test_percentiles_interpolate_linearly() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    # sorted 1 2 3 4; median: r = 0.5 * 3 = 1.5 -> 2 + 0.5 * (3 - 2) = 2.5
    assert percentile(values, 50) == pytest.approx(2.5)
    # p95: r = 0.95 * 3 = 2.85 -> 3 + 0.85 * (4 - 3) = 3.85
    assert percentile(values, 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0
    summary = summarize_latencies(values)
    assert (summary.median, summary.p95, summary.mean, summary.count) == pytest.approx(
        (2.5, 3.85, 2.5, 4)
    )


def test_percentiles_refuse_empty_input() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)
    with pytest.raises(ValueError):
        summarize_latencies([])


def test_energy_estimate() -> None:
    assert energy_wh(3600) == pytest.approx(15.0)  # 1 core-hour at 15 W
    assert energy_wh(120, watts_per_core=15) == pytest.approx(0.5)  # 120 * 15 / 3600
    assert energy_wh(120, watts_per_core=15, pue=1.5) == pytest.approx(0.75)
    # two answers, 60 + 180 = 240 CPU-seconds -> 240 * 15 / 3600 = 1 Wh -> 0.5 Wh per answer
    assert energy_wh_per_answer([60, 180]) == pytest.approx(0.5)
    assert energy_wh_per_answer([]) == 0.0
    with pytest.raises(ValueError):
        energy_wh(-1)

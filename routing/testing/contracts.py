"""The request classifier's contract: what any :class:`~routing.classifier.RequestClassifier`
must do, whatever its model.

:class:`ClassifierContract` is a mixin of pytest tests; its subclass supplies the classifier
through the ``classifier`` fixture. Every decision names a known service (the triage service
when an agent must choose), with a confidence in [0, 1], distinct runner-ups best first and a
JSON-serialisable explanation; unambiguous requests go to their service, greetings, gibberish
and empty messages to triage; the same text always gets the same decision. It says nothing
about accuracy on a whole data set: :mod:`routing.evaluate` measures that.

A town that routes with its own classifier runs the contract from the installed package::

    # tests/test_our_classifier.py
    import pytest

    from routing.testing.contracts import ClassifierContract
    from our_town.routing import RulesClassifier

    class TestRulesClassifier(ClassifierContract):
        @pytest.fixture
        def classifier(self):
            return RulesClassifier()

Then ``pytest tests/test_our_classifier.py``. A town with other services than the demo
catalogue's overrides :attr:`ClassifierContract.clear_requests`. For pytest's detailed
assertion messages, call ``pytest.register_assert_rewrite("routing.testing.contracts")`` at
the top of its ``conftest.py``.
"""

from __future__ import annotations

import json
from typing import ClassVar

import pytest

from routing.classifier import RequestClassifier, RouteDecision
from routing.service_definitions import SERVICE_CODES

#: Requests to route, of every kind: clear, mixed, off-topic, blank.
SAMPLE_REQUESTS = (
    "un lampadaire est en panne rue des Lilas",
    "jai perdu ma carte didentite",
    "le bruit des voisins et les poubelles sur le trottoir",
    "comment faire ma carte grise",
    "bonjour",
    "",
)


class ClassifierContract:
    """What every request classifier must do (fixture ``classifier``)."""

    #: Unambiguous requests of residents and the service of the demo catalogue that handles them.
    clear_requests: ClassVar[tuple[tuple[str, str], ...]] = (
        ("Je voudrais refaire mon passeport", "titres_identite"),
        ("Un lampadaire est en panne rue des Lilas", "voirie"),
        ("Comment déclarer la naissance de ma fille ?", "etat_civil"),
        ("Je veux inscrire mon fils à la cantine", "enfance_education"),
        ("Ma voiture a été emmenée à la fourrière", "stationnement"),
    )
    #: Messages no service can act on.
    not_requests: ClassVar[tuple[str, ...]] = ("bonjour", "merci, bonne soirée", "qsdfghjk", "  ")

    @pytest.fixture
    def classifier(self) -> RequestClassifier:
        """The classifier under test, ready to classify."""
        raise NotImplementedError

    def test_it_is_a_request_classifier(self, classifier: RequestClassifier) -> None:
        assert isinstance(classifier, RequestClassifier)
        assert isinstance(classifier.classify("Je voudrais refaire mon passeport"), RouteDecision)

    def test_clear_requests_go_to_their_service(self, classifier: RequestClassifier) -> None:
        decisions = {text: classifier.classify(text) for text, _ in self.clear_requests}
        routed = {text: (d.service, d.needs_triage) for text, d in decisions.items()}
        assert routed == {text: (service, False) for text, service in self.clear_requests}

    def test_what_is_not_a_request_goes_to_triage(self, classifier: RequestClassifier) -> None:
        for text in self.not_requests:
            decision = classifier.classify(text)
            assert decision.needs_triage, text
            assert decision.service in SERVICE_CODES, text  # the best guess, or triage's code

    @pytest.mark.parametrize("text", SAMPLE_REQUESTS)
    def test_decisions_are_well_formed(self, classifier: RequestClassifier, text: str) -> None:
        decision = classifier.classify(text)
        services = [decision.service] + [service for service, _ in decision.alternatives]
        scores = [decision.confidence] + [score for _, score in decision.alternatives]
        assert set(services) <= set(SERVICE_CODES)
        assert len(set(services)) == len(services)  # runner-ups are other services
        assert all(0.0 <= score <= 1.0 for score in scores)
        assert scores == sorted(scores, reverse=True)
        assert decision.reason and isinstance(decision.needs_triage, bool)
        json.dumps(decision.explanation)  # stored in the explanation record

    @pytest.mark.parametrize("text", SAMPLE_REQUESTS)
    def test_the_same_text_gets_the_same_decision(
        self, classifier: RequestClassifier, text: str
    ) -> None:
        first, second = classifier.classify(text), classifier.classify(text)
        assert (first.service, first.reason, first.needs_triage) == (
            second.service,
            second.reason,
            second.needs_triage,
        )
        assert first.confidence == pytest.approx(second.confidence, abs=1e-9)
        assert [s for s, _ in first.alternatives] == [s for s, _ in second.alternatives]

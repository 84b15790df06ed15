"""A deterministic request classifier, for tests about something else (engine, API, handoff).

:class:`FakeRequestClassifier` routes by keywords found in the accent-folded text; it passes
:class:`routing.testing.contracts.ClassifierContract` as the real classifier does, and says
nothing about routing quality.
"""

from __future__ import annotations

from collections.abc import Sequence

from routing.classifier import RouteDecision
from routing.service_definitions import TRIAGE_SERVICE
from routing.text_model import text_words

#: Keyword table of :class:`FakeRequestClassifier`: accent-free fragments, first match wins.
FAKE_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("hors_commune", ("carte grise", "permis de conduire", "allocation", "impot", "carte vitale")),
    ("titres_identite", ("passeport", "identite")),
    ("etat_civil", ("naissance", "mariage", "pacs", "deces", "cimetiere")),
    ("elections", ("procuration", "electora", "voter")),
    ("urbanisme", ("permis de construire", "declaration prealable", "cloture")),
    ("voirie", ("lampadaire", "nid de poule", "trottoir", "chaussee")),
    ("proprete_dechets", ("depot sauvage", "encombrant", "poubelle", "dechet", "graffiti")),
    ("enfance_education", ("cantine", "creche", "ecole")),
    ("action_sociale", ("ccas", "logement social")),
    ("stationnement", ("fourriere", "stationnement")),
    ("tranquillite_publique", ("bruit", "police municipale", "voisin")),
    ("affaires_generales", ("recensement", "objet trouve", "horaires de la mairie")),
)


class FakeRequestClassifier:
    """Deterministic keyword routing, for tests about something else (engine, API, handoff).

    The folded text (lowercase, no accents, no apostrophes) is searched for the fragments of
    each service of the table, in order (substring match). The first service matched is the
    decision, with confidence 0.9 and reason ``keyword``; the next two distinct services matched
    are the alternatives (0.05 each). With no match the decision is
    :data:`~routing.service_definitions.TRIAGE_SERVICE` with confidence 0, ``needs_triage`` and
    reason ``low_confidence``. It says nothing about routing quality.

    Args:
        keywords: ``(service, fragments)`` pairs; fragments are matched on folded text.
    """

    def __init__(self, keywords: Sequence[tuple[str, Sequence[str]]] = FAKE_KEYWORDS) -> None:
        self.keywords = tuple(
            (" ".join(text_words(fragment)), service)
            for service, group in keywords
            for fragment in group
        )
        self.calls = 0

    def classify(self, text: str) -> RouteDecision:
        """The decision for ``text`` (see the class docstring)."""
        self.calls += 1
        folded = f" {' '.join(text_words(text))} "
        matched = [(fragment, service) for fragment, service in self.keywords if fragment in folded]
        services = list(dict.fromkeys(service for _, service in matched))
        if not services:
            return RouteDecision(TRIAGE_SERVICE, 0.0, [], "low_confidence", True, {})
        return RouteDecision(
            service=services[0],
            confidence=0.9,
            alternatives=[(service, 0.05) for service in services[1:3]],
            reason="keyword",
            needs_triage=False,
            explanation={"model": "fake-keywords", "keyword": matched[0][0]},
        )

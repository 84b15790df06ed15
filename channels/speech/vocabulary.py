"""The municipal vocabulary that speech-to-text is biased toward.

Whisper base knows everyday French but stumbles on the words of town-hall procedures
(« encombrants », « PACS », « état civil ») and on local street names. Giving them to Whisper
as the text that came before the utterance (its *prompt*) makes those spellings likelier
without forcing them. A commune adds its own terms and street names through
``CC_SPEECH__VOCABULARY``; the demo town's streets are listed here.
"""

from __future__ import annotations

from collections.abc import Iterable

MUNICIPAL_TERMS = (
    "mairie",
    "carte d'identité",
    "passeport",
    "état civil",
    "acte de naissance",
    "acte de mariage",
    "livret de famille",
    "PACS",
    "reconnaissance anticipée",
    "encombrants",
    "déchetterie",
    "ordures ménagères",
    "tri sélectif",
    "listes électorales",
    "procuration",
    "permis de construire",
    "déclaration préalable",
    "urbanisme",
    "cantine scolaire",
    "périscolaire",
    "crèche",
    "CCAS",
    "voirie",
    "nid-de-poule",
    "lampadaire",
    "stationnement",
    "rendez-vous",
    "justificatif de domicile",
    "recensement",
)

#: Streets of Val-Fleuri, the fictional demo town.
DEMO_STREETS = (
    "place de la République",
    "rue des Écoles",
    "rue Pasteur",
    "rue des Artisans",
    "chemin des Vignes",
    "avenue des Tilleuls",
    "rue du Marché",
    "rue des Acacias",
    "rue de la Gare",
    "rue Voltaire",
    "rue Jean Jaurès",
    "boulevard Gambetta",
    "avenue Victor Hugo",
    "Val-Fleuri",
)


def terms(extra: Iterable[str] = (), *, streets: Iterable[str] = DEMO_STREETS) -> tuple[str, ...]:
    """The vocabulary: municipal terms, the town's streets, then the deployment's own terms."""
    seen: dict[str, None] = {}
    for term in (*MUNICIPAL_TERMS, *streets, *extra):
        if term.strip():
            seen.setdefault(term.strip(), None)
    return tuple(seen)

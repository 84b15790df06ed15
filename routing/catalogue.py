"""The municipal services a resident's request can be routed to, and the other administrations.

:data:`SERVICE_CODES` are the canonical codes every part of the product (and checks outside the
repository) uses. :data:`DEMO_CATALOGUE` describes those services for the fictional demo town
"Ville de Val-Fleuri" (names, hours, contacts, response targets, agents' groups); a real commune
replaces it with its own. When the town hall is not competent (``hors_commune``),
:data:`OTHER_ADMINISTRATIONS` says which body is and how residents reach it, and
:func:`find_other_administration` picks one from the resident's own words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from retrieval.sparse import strip_accents

#: Canonical service codes, in the order agents see them.
SERVICE_CODES: tuple[str, ...] = (
    "etat_civil",
    "titres_identite",
    "elections",
    "urbanisme",
    "voirie",
    "proprete_dechets",
    "enfance_education",
    "action_sociale",
    "stationnement",
    "tranquillite_publique",
    "affaires_generales",
    "hors_commune",
)

#: Where requests go when nobody can tell which service is competent (general reception).
TRIAGE_SERVICE = "affaires_generales"


@dataclass(frozen=True)
class ContactChannels:
    """How residents reach a service (all text in French, shown as is)."""

    phone: str
    email: str
    address: str


@dataclass(frozen=True)
class Service:
    """One municipal service as residents and agents see it.

    Attributes:
        code: One of :data:`SERVICE_CODES`.
        name: French display name (« Service État civil »).
        description: French summary of what the service handles.
        opening_hours: French opening hours text.
        contact: Phone, e-mail and postal address.
        target_response_days: Working days within which a request gets an answer.
        agents_group: Group of agents who receive the handed-off requests.
    """

    code: str
    name: str
    description: str
    opening_hours: str
    contact: ContactChannels
    target_response_days: int
    agents_group: str


@dataclass(frozen=True)
class OtherAdministration:
    """A body other than the town hall that is competent for some requests.

    Attributes:
        code: Short stable identifier (``caf``, ``ants`` ...).
        name: French name shown to residents.
        handles: French summary of what it handles.
        phone: Public national number (French text, may say how much it costs).
        website: Official site.
        keywords: Accent-free lowercase words or phrases that point to this body.
    """

    code: str
    name: str
    handles: str
    phone: str
    website: str
    keywords: tuple[str, ...]


_TOWN_HALL = "Hôtel de ville, 1 place de la République, 99990 Val-Fleuri"
_HOURS = "Du lundi au vendredi de 8 h 30 à 12 h et de 13 h 30 à 17 h 30, le samedi de 9 h à 12 h."


def _service(
    code: str,
    name: str,
    description: str,
    phone: str,
    mailbox: str,
    *,
    days: int = 5,
    address: str = _TOWN_HALL,
    opening_hours: str = _HOURS,
) -> Service:
    """One demo service, with the town hall's address and hours unless told otherwise."""
    return Service(
        code=code,
        name=name,
        description=description,
        opening_hours=opening_hours,
        contact=ContactChannels(phone, f"{mailbox}@val-fleuri.example", address),
        target_response_days=days,
        agents_group=f"agents-{code.replace('_', '-')}",
    )


_DEMO_SERVICES = (
    _service("etat_civil", "Service État civil",
             "Naissances, reconnaissances, mariages, PACS, décès, livret de famille, "
             "changement de prénom, cimetière et concessions funéraires.",
             "01 99 00 10 01", "etat-civil", days=3),
    _service("titres_identite", "Service Titres d'identité",
             "Cartes nationales d'identité et passeports : rendez-vous, dépôt des dossiers, "
             "retrait des titres.",
             "01 99 00 10 02", "titres", days=3,
             opening_hours="Sur rendez-vous, du lundi au vendredi de 8 h 30 à 17 h, "
             "le samedi de 9 h à 12 h."),
    _service("elections", "Service Élections",
             "Inscription sur les listes électorales, procurations, bureaux de vote, "
             "cartes électorales, assesseurs.",
             "01 99 00 10 03", "elections", days=3),
    _service("urbanisme", "Service Urbanisme",
             "Permis de construire, déclarations préalables, certificats d'urbanisme, "
             "plan local d'urbanisme (PLU), clôtures, conformité des travaux.",
             "01 99 00 10 04", "urbanisme", days=10,
             address="Centre technique municipal, 14 rue des Artisans, 99990 Val-Fleuri",
             opening_hours="Le lundi, le mercredi et le vendredi de 9 h à 12 h et de 14 h à "
             "17 h ; sur rendez-vous le mardi et le jeudi."),
    _service("voirie", "Service Voirie et espaces publics",
             "Chaussées, trottoirs, éclairage public, signalisation, feux, mobilier urbain, "
             "arbres d'alignement, neige et verglas.",
             "01 99 00 10 05", "voirie",
             address="Centre technique municipal, 14 rue des Artisans, 99990 Val-Fleuri"),
    _service("proprete_dechets", "Service Propreté et déchets",
             "Collecte des ordures ménagères et du tri, encombrants, dépôts sauvages, "
             "graffitis, déchetterie, bacs et composteurs.",
             "01 99 00 10 06", "proprete", days=3,
             address="Centre technique municipal, 14 rue des Artisans, 99990 Val-Fleuri"),
    _service("enfance_education", "Service Enfance et éducation",
             "Inscriptions scolaires, restauration scolaire, accueil périscolaire, "
             "centre de loisirs, crèches et relais petite enfance.",
             "01 99 00 10 07", "enfance"),
    _service("action_sociale", "Centre communal d'action sociale (CCAS)",
             "Aides sociales et alimentaires, personnes âgées, handicap, logement social, "
             "hébergement d'urgence, domiciliation.",
             "01 99 00 10 08", "ccas", days=2,
             address="CCAS, 3 rue de la Solidarité, 99990 Val-Fleuri"),
    _service("stationnement", "Service Stationnement",
             "Cartes de stationnement résident, parkings, horodateurs, forfaits "
             "post-stationnement, fourrière, véhicules ventouses.",
             "01 99 00 10 09", "stationnement"),
    _service("tranquillite_publique", "Police municipale et tranquillité publique",
             "Police municipale, bruit, troubles et conflits de voisinage, animaux "
             "dangereux ou errants, opération tranquillité vacances.",
             "01 99 00 10 10", "police-municipale", days=2,
             address="Poste de police municipale, 8 avenue de la Gare, 99990 Val-Fleuri",
             opening_hours="Accueil du lundi au samedi de 8 h à 20 h ; en cas d'urgence, "
             "composez le 17."),
    _service("affaires_generales", "Accueil et affaires générales",
             "Recensement citoyen, attestations d'accueil, légalisation de signature, objets "
             "trouvés, horaires de la mairie, salles municipales et vie associative.",
             "01 99 00 10 00", "accueil"),
    _service("hors_commune", "Orientation vers une autre administration",
             "Demandes qui relèvent d'un autre organisme (CAF, ANTS, impôts, France Travail, "
             "Assurance maladie, préfecture...) : l'accueil indique qui contacter.",
             "01 99 00 10 00", "accueil", days=2),
)

#: The demo town's services, by code (read-only).
DEMO_CATALOGUE: Mapping[str, Service] = MappingProxyType({s.code: s for s in _DEMO_SERVICES})

#: Competent bodies for ``hors_commune`` requests, with public national contacts.
OTHER_ADMINISTRATIONS: tuple[OtherAdministration, ...] = (
    OtherAdministration(
        "caf", "Caisse d'allocations familiales (CAF)",
        "Allocations familiales, aides au logement (APL), prime d'activité, RSA, AAH.",
        "3230 (service gratuit + prix d'un appel)", "https://www.caf.fr",
        ("caf", "apl", "allocation", "allocations familiales", "prime d'activite", "rsa", "aah",
         "aide au logement", "prime de naissance", "allocation de rentree", "trop percu caf"),
    ),
    OtherAdministration(
        "ants", "Agence nationale des titres sécurisés (ANTS)",
        "Carte grise (certificat d'immatriculation) et permis de conduire, en ligne uniquement.",
        "34 00 (service gratuit + prix d'un appel)", "https://ants.gouv.fr",
        ("carte grise", "immatriculation", "permis de conduire", "cession de vehicule",
         "non gage", "ants", "plaque"),
    ),
    OtherAdministration(
        "impots", "Finances publiques (centre des impôts)",
        "Impôt sur le revenu, taxe foncière, taxe d'habitation, prélèvement à la source.",
        "0 809 401 401 (service gratuit + prix d'un appel)", "https://www.impots.gouv.fr",
        ("impot", "impots", "taxe fonciere", "taxe d'habitation", "avis d'imposition",
         "prelevement a la source", "declaration de revenus", "numero fiscal", "revenus"),
    ),
    OtherAdministration(
        "france_travail", "France Travail (ex-Pôle emploi)",
        "Inscription comme demandeur d'emploi, allocations chômage, actualisation, formation.",
        "3949 (service gratuit + prix d'un appel)", "https://www.francetravail.fr",
        ("france travail", "pole emploi", "chomage", "demandeur d'emploi", "actualisation",
         "licenciement"),
    ),
    OtherAdministration(
        "cpam", "Assurance maladie (CPAM)",
        "Carte Vitale, remboursements de soins, indemnités journalières, médecin traitant, "
        "complémentaire santé solidaire.",
        "3646 (service gratuit + prix d'un appel)", "https://www.ameli.fr",
        ("cpam", "ameli", "carte vitale", "secu", "securite sociale", "remboursement",
         "arret maladie", "indemnites journalieres", "medecin traitant", "assurance maladie"),
    ),
    OtherAdministration(
        "prefecture", "Préfecture (administration des étrangers en France)",
        "Titres de séjour, naturalisation, cartes de résident.",
        "Prise de contact par le site de l'ANEF",
        "https://administration-etrangers-en-france.interieur.gouv.fr",
        ("titre de sejour", "carte de sejour", "naturalisation", "carte de resident",
         "prefecture", "anef"),
    ),
    OtherAdministration(
        "retraite", "Assurance retraite (CNAV)",
        "Demande de retraite, relevé de carrière, pension de réversion.",
        "3960 (service gratuit + prix d'un appel)", "https://www.lassuranceretraite.fr",
        ("retraite", "releve de carriere", "pension de reversion", "cnav"),
    ),
    OtherAdministration(
        "antai", "Agence nationale de traitement automatisé des infractions (ANTAI)",
        "Amendes radar et contraventions routières, points du permis.",
        "Contact par le site de l'ANTAI", "https://www.antai.gouv.fr",
        ("radar", "exces de vitesse", "flash", "points de permis", "antai"),
    ),
    OtherAdministration(
        "service_public", "Allô Service Public",
        "Renseignements administratifs généraux quand l'organisme compétent n'est pas clair.",
        "39 39 (service gratuit + prix d'un appel)", "https://www.service-public.fr",
        (),
    ),
)


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(keyword)}(?!\w)")


def find_other_administration(text: str) -> OtherAdministration | None:
    """The other administration whose keywords best match ``text``, if any.

    Matching is on accent-folded lowercase words; the body with the most matching keywords wins
    (ties go to the earlier one in :data:`OTHER_ADMINISTRATIONS`).

    Args:
        text: The resident's words.

    Returns:
        The competent body, or ``None`` when no keyword matches (then the assistant can point
        to Allô Service Public, the last entry of the table).
    """
    folded = " ".join(strip_accents(text).replace("’", "'").split())
    best: OtherAdministration | None = None
    best_hits = 0
    for body in OTHER_ADMINISTRATIONS:
        hits = sum(1 for kw in body.keywords if _keyword_pattern(kw).search(folded))
        if hits > best_hits:
            best, best_hits = body, hits
    return best

"""The municipal services a resident's request can be routed to, and the other administrations.

:data:`SERVICE_CODES` are the canonical codes every part of the product (and checks outside the
repository) uses. :data:`DEMO_CATALOGUE` describes those services for the fictional demo town
"Ville de Val-Fleuri" (names, hours, contacts, response targets, agents' groups), read from the
editable data file ``routing/data/catalogue_demo.json``; a real commune loads its own file of
the same format with :func:`load_catalogue`. At run time the catalogue lives in the database
(``contact_center.gru.service_catalogue``), seeded from these files and edited there by the town.
When the town hall is not competent (``hors_commune``), :data:`OTHER_ADMINISTRATIONS` says which
body is and how residents reach it, and :func:`find_other_administration` picks one from the
resident's own words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from foundation.errors import ImportFormatError
from foundation.french import strip_accents

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


#: The demo town's catalogue (editable data, same format as a commune's own file).
DEMO_CATALOGUE_PATH = Path(__file__).parent / "data" / "catalogue_demo.json"

_SERVICE_FIELDS = (
    "code",
    "name",
    "description",
    "opening_hours",
    "phone",
    "email",
    "address",
    "target_response_days",
    "agents_group",
)


def service_from_dict(data: Mapping[str, Any]) -> Service:
    """A :class:`Service` from one entry of a catalogue file.

    Raises:
        ImportFormatError: a field is missing, the code is not canonical or the response
            target is not a positive number of working days.
    """
    missing = [name for name in _SERVICE_FIELDS if name not in data]
    if missing:
        raise ImportFormatError(f"service {data.get('code')!r}: missing {', '.join(missing)}")
    if data["code"] not in SERVICE_CODES:
        raise ImportFormatError(f"unknown service code {data['code']!r}")
    days = data["target_response_days"]
    if not isinstance(days, int) or days < 1:
        raise ImportFormatError(f"service {data['code']!r}: target_response_days must be >= 1")
    return Service(
        code=data["code"],
        name=data["name"],
        description=data["description"],
        opening_hours=data["opening_hours"],
        contact=ContactChannels(data["phone"], data["email"], data["address"]),
        target_response_days=days,
        agents_group=data["agents_group"],
    )


def service_to_dict(service: Service) -> dict[str, Any]:
    """The catalogue-file entry of a :class:`Service` (inverse of :func:`service_from_dict`)."""
    return {
        "code": service.code,
        "name": service.name,
        "description": service.description,
        "opening_hours": service.opening_hours,
        "phone": service.contact.phone,
        "email": service.contact.email,
        "address": service.contact.address,
        "target_response_days": service.target_response_days,
        "agents_group": service.agents_group,
    }


def load_catalogue(path: Path) -> dict[str, Service]:
    """A commune's services from a JSON file ``{"services": [{...}, ...]}``, by code.

    Raises:
        ImportFormatError: the file is not valid JSON, or an entry is malformed or repeated.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["services"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ImportFormatError(f"{path}: not a service catalogue ({exc})") from exc
    services: dict[str, Service] = {}
    for entry in entries:
        service = service_from_dict(entry)
        if service.code in services:
            raise ImportFormatError(f"{path}: service {service.code!r} appears twice")
        services[service.code] = service
    return services


#: The demo town's services, by code, in the order of :data:`SERVICE_CODES` (read-only).
DEMO_CATALOGUE: Mapping[str, Service] = MappingProxyType(
    {
        code: service
        for code, service in sorted(
            load_catalogue(DEMO_CATALOGUE_PATH).items(),
            key=lambda item: SERVICE_CODES.index(item[0]),
        )
    }
)

#: Competent bodies for ``hors_commune`` requests, with public national contacts.
OTHER_ADMINISTRATIONS: tuple[OtherAdministration, ...] = (
    OtherAdministration(
        "caf",
        "Caisse d'allocations familiales (CAF)",
        "Allocations familiales, aides au logement (APL), prime d'activité, RSA, AAH.",
        "3230 (service gratuit + prix d'un appel)",
        "https://www.caf.fr",
        (
            "caf",
            "apl",
            "allocation",
            "allocations familiales",
            "prime d'activite",
            "rsa",
            "aah",
            "aide au logement",
            "prime de naissance",
            "allocation de rentree",
            "trop percu caf",
        ),
    ),
    OtherAdministration(
        "ants",
        "Agence nationale des titres sécurisés (ANTS)",
        "Carte grise (certificat d'immatriculation) et permis de conduire, en ligne uniquement.",
        "34 00 (service gratuit + prix d'un appel)",
        "https://ants.gouv.fr",
        (
            "carte grise",
            "immatriculation",
            "permis de conduire",
            "cession de vehicule",
            "non gage",
            "ants",
            "plaque",
        ),
    ),
    OtherAdministration(
        "impots",
        "Finances publiques (centre des impôts)",
        "Impôt sur le revenu, taxe foncière, taxe d'habitation, prélèvement à la source.",
        "0 809 401 401 (service gratuit + prix d'un appel)",
        "https://www.impots.gouv.fr",
        (
            "impot",
            "impots",
            "taxe fonciere",
            "taxe d'habitation",
            "avis d'imposition",
            "prelevement a la source",
            "declaration de revenus",
            "numero fiscal",
            "revenus",
        ),
    ),
    OtherAdministration(
        "france_travail",
        "France Travail (ex-Pôle emploi)",
        "Inscription comme demandeur d'emploi, allocations chômage, actualisation, formation.",
        "3949 (service gratuit + prix d'un appel)",
        "https://www.francetravail.fr",
        (
            "france travail",
            "pole emploi",
            "chomage",
            "demandeur d'emploi",
            "actualisation",
            "licenciement",
        ),
    ),
    OtherAdministration(
        "cpam",
        "Assurance maladie (CPAM)",
        "Carte Vitale, remboursements de soins, indemnités journalières, médecin traitant, "
        "complémentaire santé solidaire.",
        "3646 (service gratuit + prix d'un appel)",
        "https://www.ameli.fr",
        (
            "cpam",
            "ameli",
            "carte vitale",
            "secu",
            "securite sociale",
            "remboursement",
            "arret maladie",
            "indemnites journalieres",
            "medecin traitant",
            "assurance maladie",
        ),
    ),
    OtherAdministration(
        "prefecture",
        "Préfecture (administration des étrangers en France)",
        "Titres de séjour, naturalisation, cartes de résident.",
        "Prise de contact par le site de l'ANEF",
        "https://administration-etrangers-en-france.interieur.gouv.fr",
        (
            "titre de sejour",
            "carte de sejour",
            "naturalisation",
            "carte de resident",
            "prefecture",
            "anef",
        ),
    ),
    OtherAdministration(
        "retraite",
        "Assurance retraite (CNAV)",
        "Demande de retraite, relevé de carrière, pension de réversion.",
        "3960 (service gratuit + prix d'un appel)",
        "https://www.lassuranceretraite.fr",
        ("retraite", "releve de carriere", "pension de reversion", "cnav"),
    ),
    OtherAdministration(
        "antai",
        "Agence nationale de traitement automatisé des infractions (ANTAI)",
        "Amendes radar et contraventions routières, points du permis.",
        "Contact par le site de l'ANTAI",
        "https://www.antai.gouv.fr",
        ("radar", "exces de vitesse", "flash", "points de permis", "antai"),
    ),
    OtherAdministration(
        "service_public",
        "Allô Service Public",
        "Renseignements administratifs généraux quand l'organisme compétent n'est pas clair.",
        "39 39 (service gratuit + prix d'un appel)",
        "https://www.service-public.fr",
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

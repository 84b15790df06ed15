"""How a town's Publik (w.c.s.) meets the contact centre: forms, statuses, triggers, fields.

A JSON file, written by the town (``CC_GRU__PUBLIK__MAPPING_FILE``; the demo's is
``contact_center/gru/publik_mapping_demo.json``)::

    {
      "statuses": {"received": ["new"], "acknowledged": ["accepted"], ...},
      "triggers": {"acknowledged": "prise-en-charge", ...},
      "fields": {"summary": "objet", "description": "description", ...},
      "tenants": {"demo": {"forms": {"voirie": "signalement-voirie", ...}}}
    }

* ``statuses``: for each status of the contact centre, the ids of the w.c.s. workflow statuses
  that mean it (an id belongs to one status at most). A w.c.s. status left out is shown to
  residents under its own name, and agents' changes from it are left to w.c.s. to judge.
* ``triggers``: for each status agents may move a case to, the identifier of the workflow's
  jump « par déclencheur » (webservice trigger) that leads there. Without one, that move is
  refused here.
* ``fields``: the identifiers (``varname``) of the forms' fields that receive the request:
  ``summary``, ``description``, ``location``, ``name``, ``email``, ``phone``, ``priority``
  (defaults in :data:`DEFAULT_FIELDS`; an empty identifier leaves that piece out).
* ``tenants``: for each commune, the form slug of each service code. A service without a form
  is filed with the general reception's (``affaires_generales``) if that one has a form. A
  form belongs to one commune only, so that codes and case ids never cross communes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from contact_center.gru.case_domain import CaseStatus
from foundation.errors import ConfigurationError
from routing.service_definitions import SERVICE_CODES

#: The demo town's mapping (the forms of :class:`contact_center.testing.publik_standin`).
DEMO_MAPPING_PATH = Path(__file__).with_name("publik_mapping_demo.json")

#: Pieces of a request -> the form fields' identifiers, unless the mapping says otherwise.
DEFAULT_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "summary": "objet",
        "description": "description",
        "location": "adresse",
        "name": "nom",
        "email": "courriel",
        "phone": "telephone",
        "priority": "priorite",
    }
)


@dataclass(frozen=True)
class PublikMapping:
    """The town's mapping, checked (see the module's documentation)."""

    #: w.c.s. status id -> the contact centre's status.
    statuses: Mapping[str, CaseStatus]
    #: Target status -> the workflow trigger that leads there.
    triggers: Mapping[CaseStatus, str]
    #: Piece of a request -> form field identifier (absent: not sent).
    fields: Mapping[str, str]
    #: Commune -> service code -> form slug.
    forms: Mapping[str, Mapping[str, str]]
    #: Form slug -> (commune, service code), the first service listed for that form.
    owners: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def status_of(self, wcs_status_id: str) -> CaseStatus | None:
        """The contact centre's status for a w.c.s. status id, None when not mapped."""
        return self.statuses.get(wcs_status_id)

    def form_of(self, tenant_id: str, service: str) -> str | None:
        """The commune's form slug for a service, None when it has none."""
        return self.forms.get(tenant_id, {}).get(service)

    def owner_of(self, slug: str) -> tuple[str, str] | None:
        """The commune and service of a form, None for a form the mapping does not name."""
        return self.owners.get(slug)


def load_mapping(path: Path) -> PublikMapping:
    """Read and check a mapping file.

    Raises:
        ConfigurationError: unreadable file, unknown status or service, a w.c.s. status or a
            form named twice (French message naming the file).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"{path} : fichier de correspondance Publik illisible ({exc})"
        ) from exc
    try:
        return parse_mapping(data)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{path} : {exc}") from exc


def parse_mapping(data: Any) -> PublikMapping:
    """A mapping from its JSON value.

    Raises:
        ConfigurationError: see :func:`load_mapping`.
    """
    if not isinstance(data, dict):
        raise ConfigurationError("la correspondance doit être un objet JSON")
    statuses = _statuses(data.get("statuses", {}))
    triggers = {
        _status(name): _text(trigger, f"déclencheur de « {name} »")
        for name, trigger in _object(data.get("triggers", {}), "triggers").items()
    }
    fields = dict(DEFAULT_FIELDS)
    for piece, varname in _object(data.get("fields", {}), "fields").items():
        if piece not in DEFAULT_FIELDS:
            raise ConfigurationError(f"champ inconnu dans « fields » : « {piece} »")
        if not isinstance(varname, str):
            raise ConfigurationError(f"l'identifiant du champ « {piece} » doit être un texte")
        fields[piece] = varname
    forms, owners = _forms(_object(data.get("tenants", {}), "tenants"))
    return PublikMapping(
        statuses=MappingProxyType(statuses),
        triggers=MappingProxyType(triggers),
        fields=MappingProxyType({piece: name for piece, name in fields.items() if name}),
        forms=MappingProxyType(forms),
        owners=MappingProxyType(owners),
    )


def _statuses(value: Any) -> dict[str, CaseStatus]:
    statuses: dict[str, CaseStatus] = {}
    for name, ids in _object(value, "statuses").items():
        status = _status(name)
        if not isinstance(ids, str | list):
            raise ConfigurationError(f"« statuses.{name} » : une liste d'identifiants est attendue")
        for wcs_id in [ids] if isinstance(ids, str) else ids:
            wcs_id = _text(wcs_id, f"statut w.c.s. de « {name} »")
            if wcs_id in statuses:
                raise ConfigurationError(f"le statut w.c.s. « {wcs_id} » est attribué deux fois")
            statuses[wcs_id] = status
    return statuses


def _forms(
    tenants: dict[str, Any],
) -> tuple[dict[str, dict[str, str]], dict[str, tuple[str, str]]]:
    forms: dict[str, dict[str, str]] = {}
    owners: dict[str, tuple[str, str]] = {}
    for tenant_id, tenant in tenants.items():
        services = _object(_object(tenant, f"tenants.{tenant_id}").get("forms", {}), "forms")
        forms[tenant_id] = {}
        for service, slug in services.items():
            if service not in SERVICE_CODES:
                raise ConfigurationError(f"service inconnu pour « {tenant_id} » : « {service} »")
            slug = _text(slug, f"formulaire de « {service} »")
            owner = owners.setdefault(slug, (tenant_id, service))
            if owner[0] != tenant_id:
                raise ConfigurationError(
                    f"le formulaire « {slug} » est attribué à deux communes "
                    f"(« {owner[0]} » et « {tenant_id} »)"
                )
            forms[tenant_id][service] = slug
    return forms, owners


def _status(name: str) -> CaseStatus:
    try:
        return CaseStatus(name)
    except ValueError as exc:
        raise ConfigurationError(f"statut inconnu : « {name} »") from exc


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigurationError(f"« {where} » doit être un objet JSON")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{what} : un texte non vide est attendu")
    return value.strip()

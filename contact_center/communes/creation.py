"""A commune in minutes: the commune, its services and its first administrator, at once.

Used by ``contact-center commune create`` (contact_center/communes/commands.py) and by the
platform administrators' ``POST /api/v1/communes`` (contact_center/web/communes_api.py).
Everything is checked before anything is stored; the services come from a catalogue in the
shape of ``routing/data/catalogue_demo.json`` or, when none is given, from the demo
catalogue with the commune's own name in it (a town then edits them in the catalogue).
The first administrator gets a random initial password, shown once to whoever created the
commune, to hand over and replace (``contact-center agents set-password``).
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from contact_center.agents.accounts import AccountStore, Agent
from contact_center.agents.audit import AuditLog
from contact_center.communes.registry import Commune, CommuneRegistry, check_commune
from contact_center.errors import CommuneExistsError, InvalidCommuneError
from contact_center.gru.service_catalogue import ServiceCatalogue
from foundation.errors import ImportFormatError
from routing.service_definitions import (
    DEMO_CATALOGUE,
    ContactChannels,
    Service,
    service_from_dict,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: The demo town's name and mail domain, replaced by the new commune's in default services.
_DEMO_NAME, _DEMO_DOMAIN = "Val-Fleuri", "val-fleuri.example"
_PASSWORD_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class NewCommune:
    """What creating a commune needs (checked by :func:`create_commune`)."""

    tenant_id: str
    name: str
    admin_email: str
    admin_name: str = ""
    #: Catalogue entries (``{"code", "name", "opening_hours", "phone", ...}``); None: the demo's.
    services: Sequence[Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class CreatedCommune:
    """The commune, its services and its first administrator with the initial password."""

    commune: Commune
    services: list[Service]
    admin: Agent
    initial_password: str


def parse_services(entries: Iterable[Mapping[str, Any]]) -> list[Service]:
    """Services from catalogue entries, each code once.

    Raises:
        InvalidCommuneError: a malformed entry or a repeated code (French message).
    """
    services: dict[str, Service] = {}
    try:
        for entry in entries:
            service = service_from_dict(entry)
            if service.code in services:
                raise InvalidCommuneError(f"Le service « {service.code} » figure deux fois.")
            services[service.code] = service
    except (ImportFormatError, TypeError, AttributeError) as exc:
        raise InvalidCommuneError(f"Liste de services invalide : {exc}.") from exc
    if not services:
        raise InvalidCommuneError("La commune doit avoir au moins un service.")
    return list(services.values())


def default_services(tenant_id: str, name: str) -> list[Service]:
    """The demo catalogue's services, with the commune's name and mail domain in them."""

    def own(text: str) -> str:
        return text.replace(_DEMO_DOMAIN, f"{tenant_id}.example").replace(_DEMO_NAME, name)

    return [
        replace(
            service,
            name=own(service.name),
            description=own(service.description),
            contact=ContactChannels(
                service.contact.phone, own(service.contact.email), own(service.contact.address)
            ),
        )
        for service in DEMO_CATALOGUE.values()
    ]


def initial_password() -> str:
    """A random password that passes the rules (letters of both cases, digits, a dash)."""
    while True:
        chunks = ["".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(6)) for _ in range(3)]
        password = "-".join(chunks)
        kinds = (str.islower, str.isupper, str.isdigit)
        if all(any(kind(c) for c in password) for kind in kinds):
            return password


def create_commune(
    new: NewCommune,
    registry: CommuneRegistry,
    catalogue: ServiceCatalogue,
    accounts: AccountStore,
    audit: AuditLog,
    *,
    actor: str,
) -> CreatedCommune:
    """Serve a new commune with its services and first administrator.

    Raises:
        InvalidCommuneError: a malformed id, name, e-mail or service (nothing stored).
        CommuneExistsError: the id is already served (nothing stored).
    """
    tenant_id, name = check_commune(new.tenant_id, new.name)
    email = new.admin_email.strip()
    if not _EMAIL.match(email):
        raise InvalidCommuneError("L'adresse électronique du premier administrateur est invalide.")
    if new.services is None:
        services = default_services(tenant_id, name)
    else:
        services = parse_services(new.services)
    if registry.get(tenant_id) is not None:
        raise CommuneExistsError(tenant_id)
    commune = registry.add(tenant_id, name)
    catalogue.seed(tenant_id, services)
    details = {"name": name, "services": [service.code for service in services]}
    audit.record(tenant_id, actor, "commune.created", tenant_id, details)
    password = initial_password()
    admin = accounts.create_agent(
        tenant_id,
        email,
        new.admin_name.strip() or email,
        role="admin",
        password=password,
        actor=actor,
    )
    return CreatedCommune(commune, services, admin, password)

"""``contact-center commune ...``: serve a new commune from the command line.

::

    contact-center commune create --id ville-b --name "Ville de B" \\
        --admin-email admin@ville-b.fr [--admin-name N] [--services services.json]
    contact-center commune list [--json]

``--services`` is a catalogue file in the shape of ``routing/data/catalogue_demo.json``
(``{"services": [{"code", "name", "opening_hours", "phone", "email", "address", ...}]}``);
without it the commune gets the demo catalogue's services with its own name. The first
administrator's initial password is printed once: hand it over, and replace it with
``contact-center agents set-password``. A running server sees the new commune within seconds
(contact_center/communes/registry.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contact_center.settings import Settings

if TYPE_CHECKING:
    from contact_center.communes.registry import CommuneRegistry
    from contact_center.db import Database

ACTOR = "cli"


def register(sub: Any) -> None:
    """Add the ``commune`` command to the ``contact-center`` sub-parsers."""
    commune = sub.add_parser("commune", help="the communes this instance serves").add_subparsers()

    create = commune.add_parser("create", help="serve a new commune, with its first admin")
    create.add_argument("--id", required=True, help="commune id for URLs, e.g. ville-b")
    create.add_argument("--name", required=True, help="the name residents read")
    create.add_argument("--admin-email", required=True, help="the first administrator")
    create.add_argument("--admin-name", default="", help="display name (default: the e-mail)")
    create.add_argument("--services", type=Path, default=None, help="catalogue JSON file")
    create.set_defaults(handler=_create)

    listing = commune.add_parser("list", help="list the served communes")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(handler=_list)


def served_communes(settings: Settings) -> tuple[Database, CommuneRegistry]:
    """The migrated database and its registry, seeded from the settings (no models, no Qdrant)."""
    from contact_center.communes.registry import CommuneRegistry
    from contact_center.db import Database, migrate

    database = Database(settings.database_url)
    migrate(database.engine)
    registry = CommuneRegistry(database)
    registry.seed(settings.app.tenants)
    return database, registry


def _create(args: argparse.Namespace, settings: Settings) -> int:
    from contact_center.agents.accounts import AccountStore
    from contact_center.agents.audit import AuditLog
    from contact_center.communes.creation import NewCommune, create_commune
    from contact_center.gru.service_catalogue import ServiceCatalogue

    services = None
    if args.services is not None:
        try:
            services = json.loads(args.services.read_text(encoding="utf-8"))["services"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"erreur : {args.services} n'est pas un catalogue ({exc}).", file=sys.stderr)
            return 2
    database, registry = served_communes(settings)
    new = NewCommune(args.id, args.name, args.admin_email, args.admin_name, services)
    audit = AuditLog(database)
    catalogue = ServiceCatalogue(database)
    accounts = AccountStore(database, audit)
    created = create_commune(new, registry, catalogue, accounts, audit, actor=ACTOR)
    print(
        f"Commune créée : {created.commune.id} ({created.commune.name}), "
        f"{len(created.services)} services."
    )
    print(f"Premier administrateur : {created.admin.email}")
    print(f"Mot de passe initial (affiché une seule fois) : {created.initial_password}")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    for commune in served_communes(settings)[1].list():
        if args.json:
            row = {"id": commune.id, "name": commune.name, "created_at": commune.created_at}
            print(json.dumps({**row, "created_at": commune.created_at.isoformat()}))
        else:
            print(f"{commune.id}\t{commune.name}\t{commune.created_at:%Y-%m-%d}")
    return 0

"""``contact-center agents ...``: agents' accounts from the command line.

::

    contact-center agents create-admin --tenant demo --email admin@val-fleuri.fr [--name N]
    contact-center agents create --tenant demo --email a@val-fleuri.fr --role agent \\
        --service voirie [--service proprete_dechets]
    contact-center agents set-password --tenant demo --email a@val-fleuri.fr
    contact-center agents list [--tenant demo] [--json]

The password is asked twice at the prompt, or read from the first line of standard input with
``--password-stdin`` (scripts); ``--sso-only`` creates an account without password, for
agents who sign in through the town's SSO. Changes are written to the audit log as ``cli``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TYPE_CHECKING, Any

from contact_center.settings import Settings

if TYPE_CHECKING:
    from contact_center.agents.authentication import Authentication

ACTOR = "cli"


def register(sub: Any) -> None:
    """Add the ``agents`` command to the ``contact-center`` sub-parsers."""
    agents = sub.add_parser("agents", help="agents' accounts (console sign-in)").add_subparsers()

    admin = agents.add_parser("create-admin", help="create an administrator (the first one)")
    _identity(admin)
    admin.set_defaults(handler=_create_admin)

    create = agents.add_parser("create", help="create an agent, supervisor or administrator")
    _identity(create)
    create.add_argument("--role", choices=["agent", "supervisor", "admin"], default="agent")
    create.add_argument("--service", action="append", default=[], help="service code (repeat)")
    create.set_defaults(handler=_create)

    password = agents.add_parser("set-password", help="replace a password (ends its sessions)")
    password.add_argument("--tenant", required=True)
    password.add_argument("--email", required=True)
    password.add_argument("--password-stdin", action="store_true")
    password.set_defaults(handler=_set_password)

    listing = agents.add_parser("list", help="list the accounts")
    listing.add_argument("--tenant", default=None)
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(handler=_list)


def _identity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tenant", required=True, help="commune id, e.g. demo")
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", default="", help="display name (default: the e-mail)")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="read the password on stdin")
    how.add_argument("--sso-only", action="store_true", help="no password: SSO sign-in only")


def _auth(settings: Settings) -> Authentication:
    """Accounts and sessions alone (no models, no Qdrant)."""
    from contact_center.agents.authentication import Authentication
    from contact_center.db import Database, migrate

    database = Database(settings.database_url)
    migrate(database.engine)
    return Authentication(settings, database)


def _check_tenant(settings: Settings, tenant: str) -> bool:
    from contact_center.communes.commands import served_communes

    communes = served_communes(settings)[1]
    if communes.is_served(tenant):
        return True
    known = ", ".join(commune.id for commune in communes.list())
    print(f"erreur : commune inconnue « {tenant} » (communes servies : {known}).", file=sys.stderr)
    return False


def _password(args: argparse.Namespace) -> str | None:
    if getattr(args, "sso_only", False):
        return None
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Mot de passe : ")
    if getpass.getpass("Confirmez le mot de passe : ") != first:
        raise SystemExit("erreur : les deux mots de passe diffèrent.")
    return first


def _create_admin(args: argparse.Namespace, settings: Settings) -> int:
    args.role, args.service = "admin", []
    return _create(args, settings)


def _create(args: argparse.Namespace, settings: Settings) -> int:
    if not _check_tenant(settings, args.tenant):
        return 2
    auth = _auth(settings)
    agent = auth.accounts.create_agent(
        args.tenant,
        args.email,
        args.name,
        role=args.role,
        password=_password(args),
        services=args.service,
        actor=ACTOR,
    )
    services = ", ".join(sorted(agent.services)) or "aucun"
    print(
        f"Compte créé : {agent.email} ({agent.role}, commune {agent.tenant_id}, "
        f"services : {services}), identifiant {agent.id}."
    )
    return 0


def _set_password(args: argparse.Namespace, settings: Settings) -> int:
    auth = _auth(settings)
    agent = auth.accounts.find(args.tenant, email=args.email)
    if agent is None:
        print("erreur : aucun compte ne correspond à cette adresse.", file=sys.stderr)
        return 1
    auth.accounts.set_password(agent.id, _password(args) or "", actor=ACTOR)
    closed = auth.sessions.close_all_for_agent(agent.id)
    print(f"Mot de passe remplacé ; {closed} session(s) fermée(s).")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    for account in _auth(settings).accounts.list(args.tenant):
        agent = account.agent
        row = {
            "id": agent.id,
            "tenant": agent.tenant_id,
            "email": agent.email,
            "name": agent.name,
            "role": agent.role,
            "services": sorted(agent.services),
            "active": account.active,
            "password": account.has_password,
            "sso": account.sso_linked,
            "last_login_at": account.last_login_at.isoformat() if account.last_login_at else None,
        }
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            state = "actif" if account.active else "désactivé"
            services = ",".join(sorted(agent.services)) or "-"
            print(f"{agent.tenant_id}\t{agent.email}\t{agent.role}\t{services}\t{state}")
    return 0

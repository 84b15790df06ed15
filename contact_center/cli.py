"""``contact-center`` command line: serve, manage the knowledge base, ask, search, privacy.

A composition root, like contact_center/app.py and contact_center/services.py: it builds
what a command needs (:class:`~contact_center.services.Services`, or a store alone), runs it
and closes it. Keep it thin: parsing arguments and printing results; the work itself belongs
to the rooms below.

Forms used by people and by checks outside this repository (keep them):
``serve [--host H] [--port P]``, ``kb import-service-public``, ``kb reindex``,
``ask "question" [--tenant ID] --json``, ``search "question" [--tenant ID] [--top-k N] --json``.

While ``serve`` runs, it holds the embedded index: the ``kb`` commands then hand their import
to that server (found through the control file it writes in its data folder, see
contact_center/kb_admin/local_control.py) and print its progress until it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from contact_center.agents.commands import register as register_agents
from contact_center.communes.commands import register as register_communes
from contact_center.settings import Settings
from foundation.errors import ContactCenterError

if TYPE_CHECKING:
    from contact_center.conversation.store import ConversationStore
    from contact_center.kb_admin.local_control import LocalControl
    from contact_center.services import Services

log = logging.getLogger("contact_center")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``contact-center`` script."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args, Settings()) or 0)
    except ContactCenterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contact-center", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers()

    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(handler=_serve)

    kb = sub.add_parser("kb", help="knowledge base").add_subparsers()
    imp = kb.add_parser("import-service-public", help="import the service-public.fr fiches")
    imp.add_argument("--only", nargs="*", default=None, help="fiche ids (default: all)")
    imp.add_argument(
        "--dense",
        choices=["now", "later"],
        default="now",
        help="compute dense vectors now, or later in the server's background",
    )
    imp.set_defaults(handler=_kb_import_service_public)
    loc = kb.add_parser("import-local", help="import the demo town's Markdown pages")
    loc.add_argument("--tenant", default=None)
    loc.set_defaults(handler=_kb_import_local)
    re = kb.add_parser("reindex", help="re-import every source; only changes are re-embedded")
    re.add_argument("--dense", choices=["now", "later"], default="now")
    re.set_defaults(handler=_kb_reindex)

    for name, handler in (("ask", _ask), ("search", _search)):
        cmd = sub.add_parser(name, help=f"{name} from the command line")
        cmd.add_argument("question")
        cmd.add_argument("--tenant", default=None)
        cmd.add_argument("--json", action="store_true", help="print one JSON object")
        if name == "search":
            cmd.add_argument("--top-k", type=int, default=None)
        cmd.set_defaults(handler=handler)

    route = sub.add_parser("route", help="which municipal service handles a request")
    route.add_argument("text")
    route.add_argument("--tenant", default=None)
    route.add_argument("--json", action="store_true", help="print one JSON object")
    route.set_defaults(handler=_route)

    privacy = sub.add_parser("privacy", help="GDPR retention and erasure").add_subparsers()
    purge = privacy.add_parser("purge", help="delete conversations past the retention period")
    purge.set_defaults(handler=_privacy_purge)
    erase = privacy.add_parser("erase", help="erase one resident's conversations")
    erase.add_argument("--conversation")
    erase.add_argument("--containing", help="an e-mail address or phone number")
    erase.set_defaults(handler=_privacy_erase)

    from eval.cli import add_parser as add_eval_parser  # light: the runners load on use

    add_eval_parser(sub)
    register_agents(sub)
    register_communes(sub)
    return parser


def _services(settings: Settings, *, llm: bool) -> Services:
    from contact_center.services import Services

    services = Services(settings)
    services.warm_up(llm=llm)
    return services


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import socket

    import uvicorn

    from contact_center.app import create_app

    host = args.host or settings.app.host
    port = settings.app.port if args.port is None else args.port  # 0: the system picks one
    # Bound before the app starts, so that the control file can name the port (even port 0).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    port = sock.getsockname()[1]
    print(f"Centre de contact : http://{host}:{port}/", flush=True)
    # The app resolves forwarded addresses itself, from CC_APP__TRUSTED_PROXIES only.
    app = create_app(settings, local_url=f"http://{_loopback(host)}:{port}")
    config = uvicorn.Config(app, host=host, port=port, log_level="info", proxy_headers=False)
    # uvicorn stops gracefully on SIGTERM or Ctrl-C, then raises the signal again once its own
    # handlers are gone: these turn that requested stop into exit code 0 (systemd, Docker).
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _stopped)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def _stopped(signum: int, frame: object) -> None:
    """A stop asked by a signal: the command ends normally (the server has shut down)."""
    log.info("server stopped signal=%s", signal.Signals(signum).name)
    raise SystemExit(0)


def _loopback(host: str) -> str:
    """How this machine reaches a server listening on ``host``."""
    if host in {"", "0.0.0.0"}:
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _kb_job(
    settings: Settings,
    kind: str,
    tenant_id: str,
    only: tuple[str, ...] = (),
    dense: Literal["now", "later"] = "now",
) -> int:
    """Import in the running server if there is one (it holds the index), else in-process."""
    from contact_center.kb_admin import local_control
    from contact_center.kb_admin.import_jobs import import_documents

    control = local_control.find(settings.app.data_dir)
    if control is not None:
        return _hand_over(control, kind, tenant_id, only)
    documents = import_documents(settings.kb, kind, tenant_id, only)
    services = _services(settings, llm=False)
    try:
        report = services.indexer.index(
            documents, progress=True, dense=dense, withdrawn=documents.withdrawn
        )
        print(json.dumps(report.__dict__, ensure_ascii=False, default=str))
    finally:
        asyncio.run(services.aclose())
    return 0


def _hand_over(control: LocalControl, kind: str, tenant_id: str, only: tuple[str, ...]) -> int:
    """Post the import to the running server, print its progress, then its final report."""
    from contact_center.kb_admin.local_control import ServerImports

    print(
        f"Un serveur tourne ({control.url}, processus {control.pid}) : l'import lui est confié "
        "(les vecteurs sémantiques sont calculés ensuite en arrière-plan).",
        file=sys.stderr,
        flush=True,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the progress lines say enough
    imports = ServerImports(control)
    try:
        job = imports.run(kind, tenant_id, only, on_progress=_print_progress)
    except KeyboardInterrupt:  # the server goes on: only the following stops
        print(
            "\nL'import se poursuit sur le serveur : suivez-le dans l'onglet « Importer » de "
            "la page /admin.",
            file=sys.stderr,
        )
        return 130
    finally:
        imports.close()
    print(json.dumps(job, ensure_ascii=False))
    if job["phase"] != "done":
        print(f"error: {job['error']}", file=sys.stderr)
        return 1
    return 0


PHASES = {
    "reading": "lecture de la source",
    "indexing": "indexation",
    "done": "terminé",
    "failed": "échec",
    "stopped": "interrompu",
}


def _print_progress(job: dict[str, Any]) -> None:
    print(
        f"[{job['id']}] {PHASES.get(job['phase'], job['phase'])} : "
        f"{job['documents_seen']} document(s) lus, {job['documents_indexed']} écrit(s), "
        f"{job['documents_unchanged']} inchangé(s), {job['chunks_upserted']} passage(s) indexés",
        file=sys.stderr,
        flush=True,
    )


def _kb_import_service_public(args: argparse.Namespace, settings: Settings) -> int:
    only = tuple(args.only) if args.only else ()
    return _kb_job(settings, "service-public", settings.app.default_tenant, only, args.dense)


def _kb_import_local(args: argparse.Namespace, settings: Settings) -> int:
    tenant = args.tenant or settings.app.default_tenant
    return _kb_job(settings, "local", tenant)


def _kb_reindex(args: argparse.Namespace, settings: Settings) -> int:
    return _kb_job(settings, "reindex", settings.app.default_tenant, dense=args.dense)


def _search(args: argparse.Namespace, settings: Settings) -> int:
    from contact_center.conversation.turns import source_dict

    services = _services(settings, llm=False)
    try:
        started = time.perf_counter()
        tenant = args.tenant or settings.app.default_tenant
        result = services.retriever.search(args.question, tenant, args.top_k)
        # The passages the search ranked, not the best document's other sections after them.
        ranked = result.chunks[: args.top_k or settings.retrieval.top_k]
        out = {
            "question": args.question,
            "tenant": tenant,
            "relevance": round(result.relevance, 4),
            "sources": [source_dict(n, s) for n, s in enumerate(ranked, start=1)],
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        _print(out, args.json)
    finally:
        asyncio.run(services.aclose())
    return 0


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from contact_center.conversation.turns import TurnCompleted

    services = _services(settings, llm=True)
    tenant = args.tenant or settings.app.default_tenant

    async def run() -> TurnCompleted:
        done = None
        async for event in services.engine.answer(args.question, tenant):
            if isinstance(event, TurnCompleted):
                done = event
        assert done is not None
        return done

    try:
        done = asyncio.run(run())
    finally:
        asyncio.run(services.aclose())
    out = {
        "question": args.question,
        "tenant": tenant,
        "answer": done.answer,
        "sources": done.sources,
        "abstained": done.abstained,
        "reason": done.reason,
        "relevance": done.relevance,
        "latency_ms": done.latency_ms.get("total"),
        "latency_by_stage_ms": done.latency_ms,
        "model_id": services.chat_model.model_id,
    }
    _print(out, args.json)
    return 0


def _route(args: argparse.Namespace, settings: Settings) -> int:
    from contact_center.settings import routing_embeddings
    from retrieval.embeddings import build_embedder
    from routing.classifier import build_classifier

    embedder = build_embedder(routing_embeddings(settings))
    embedder.warm_up()
    classifier = build_classifier(
        embedder, settings.models.dir, threshold=settings.routing.threshold
    )
    started = time.perf_counter()
    decision = classifier.classify(args.text)
    out = {
        "text": args.text,
        "tenant": args.tenant or settings.app.default_tenant,
        "service": decision.service,
        "confidence": round(decision.confidence, 4),
        "alternatives": [
            {"service": service, "confidence": round(p, 4)} for service, p in decision.alternatives
        ],
        "needs_triage": decision.needs_triage,
        "reason": decision.reason,
        "explanation": decision.explanation,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    _print(out, args.json)
    return 0


def _conversations(settings: Settings) -> ConversationStore:
    """The conversation store alone (privacy commands need neither Qdrant nor models)."""
    from contact_center.conversation.store import ConversationStore
    from contact_center.db import Database, migrate

    database = Database(settings.database_url)
    migrate(database.engine)
    return ConversationStore(database)


def _privacy_purge(args: argparse.Namespace, settings: Settings) -> int:
    store = _conversations(settings)
    deleted = store.purge_older_than(settings.privacy.retention_days)
    print(
        f"{deleted} conversation(s) supprimée(s) (conservation : "
        f"{settings.privacy.retention_days} jours)."
    )
    return 0


def _privacy_erase(args: argparse.Namespace, settings: Settings) -> int:
    if not (args.conversation or args.containing):
        print("error: give --conversation ID or --containing TEXT", file=sys.stderr)
        return 2
    deleted = _conversations(settings).erase(
        conversation_id=args.conversation, containing=args.containing
    )
    print(f"{deleted} conversation(s) effacée(s).")
    return 0


def _print(out: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(out, ensure_ascii=False))
        return
    for key, value in out.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    raise SystemExit(main())

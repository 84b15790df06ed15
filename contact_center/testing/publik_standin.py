"""A local stand-in for a town's Publik (w.c.s.), to test the Publik connector without the
network.

It is a small FastAPI app that :class:`PublikStandIn` serves with uvicorn on a free loopback
port (port 0) in a thread. It speaks the part of w.c.s.'s REST API that
:class:`contact_center.gru.publik.PublikGru` uses, keeps forms in memory and answers as w.c.s.
does (``{"err": 0, ...}``, or ``{"err": 1, "err_class", "err_desc"}`` with 403 or 404):

* ``POST /api/formdefs/<slug>/submit``: ``{"data", "meta", "context"}`` files a form in the
  workflow's first status; the answer holds its ``id``, URLs and ``tracking_code`` (eight
  consonants, as ``wcs/tracking_code.py`` draws them; none with ``tracking_codes=False``).
* ``GET /api/forms/<slug>/<id>/``: the form (``display_id`` ``<formdef>-<id>``, times,
  ``fields`` by identifier, ``workflow.status`` and ``real_status``).
* ``POST /api/forms/<slug>/<id>/jump/trigger/<trigger>/``: the jump of the form's current status
  with that trigger (404 when its status has none); the JSON body is kept as workflow data.
* ``GET /api/code/<code>``: the URL of the form with that tracking code (in any case), or 404.

Every call must be signed, and is checked as w.c.s. checks it (``wcs/api_utils.py``,
``is_url_signed``): ``orig`` names a known key, ``algo`` is a :mod:`hashlib` algorithm,
``signature`` is the base64 HMAC of the raw query string before ``&signature=``, ``timestamp``
is within ``duration_s`` (30 s) of the stand-in's clock and ``nonce`` was not used before. A
refused call gets 403 and its reason is added to :attr:`PublikStandIn.refusals`.

::

    with PublikStandIn(orig="centre-de-contact", key="secret", forms=["signalement-voirie"]) as wcs:
        gru = PublikGru(url=wcs.url, orig="centre-de-contact", key="secret", ...)

:attr:`PublikStandIn.fail_next` makes the next signed calls fail with 500;
:meth:`PublikStandIn.set_status` moves a form as an agent would in Publik's back office.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType, TracebackType
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from contact_center.testing.serving import serve_app

#: w.c.s.'s tracking code alphabet and length.
CODE_CHARS = "BCDFGHJKLMNPQRSTVWXZ"
CODE_SIZE = 8
_LOCAL = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class StandInWorkflow:
    """A w.c.s. workflow reduced to its statuses and its jumps by trigger."""

    #: Status id -> name (what w.c.s. shows).
    statuses: Mapping[str, str]
    #: The status of a form just submitted.
    initial: str
    #: Status id -> trigger -> target status id.
    jumps: Mapping[str, Mapping[str, str]]


#: A report workflow as a town might draw it (the demo mapping's ids and triggers).
DEMO_WORKFLOW = StandInWorkflow(
    statuses=MappingProxyType(
        {
            "new": "Nouveau",
            "accepted": "Pris en charge",
            "in-progress": "En cours de traitement",
            "waiting": "En attente de complément",
            "finished": "Terminé",
            "closed": "Clôturé",
            "rejected": "Classé sans suite",
            "archived": "Archivé",
        }
    ),
    initial="new",
    jumps=MappingProxyType(
        {
            "new": {"prise-en-charge": "accepted", "rejet": "rejected"},
            "accepted": {
                "traitement": "in-progress",
                "demande-complement": "waiting",
                "reponse": "finished",
                "rejet": "rejected",
            },
            "in-progress": {
                "demande-complement": "waiting",
                "reponse": "finished",
                "rejet": "rejected",
            },
            "waiting": {"traitement": "in-progress", "reponse": "finished", "cloture": "closed"},
            "finished": {"cloture": "closed", "traitement": "in-progress"},
        }
    ),
)


@dataclass
class StandInForm:
    """One filed form, as the stand-in keeps it."""

    formdef_id: int
    slug: str
    id: int
    data: dict[str, Any]
    channel: str
    status: str
    tracking_code: str | None
    receipt_time: datetime
    last_update_time: datetime
    #: Triggered jumps: ``{"trigger", "from", "to", "workflow_data"}``.
    jumps: list[dict[str, Any]] = field(default_factory=list)


class PublikStandIn:
    """An in-memory w.c.s. on a loopback port (see the module's documentation).

    Args:
        orig: The caller's identifier (an API access of w.c.s.).
        key: The secret shared with that caller.
        forms: The form slugs it serves (formdef ids count from 1 in this order).
        workflow: The forms' workflow.
        tracking_codes: Whether forms get tracking codes (a w.c.s. form option).
        duration_s: How far a signed timestamp may be from the clock, and how long a nonce
            is remembered.
        clock: Current UTC time, for the signature check and the forms' times.
    """

    def __init__(
        self,
        *,
        orig: str = "centre-de-contact",
        key: str = "cle-de-demonstration",
        forms: Iterable[str] = (),
        workflow: StandInWorkflow = DEMO_WORKFLOW,
        tracking_codes: bool = True,
        duration_s: int = 30,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.keys = {orig: key}
        self.workflow = workflow
        self.tracking_codes = tracking_codes
        self.duration = timedelta(seconds=duration_s)
        self.clock = clock
        self.formdefs = {slug: number for number, slug in enumerate(forms, start=1)}
        #: Filed forms: slug -> form id -> form.
        self.forms: dict[str, dict[int, StandInForm]] = {slug: {} for slug in self.formdefs}
        #: Why calls were refused, in order (w.c.s.'s own wording).
        self.refusals: list[str] = []
        #: Every call: ``(method, path, HTTP status)``.
        self.requests: list[tuple[str, str, int]] = []
        #: How many signed calls to answer with 500 before serving again.
        self.fail_next = 0
        self._codes: dict[str, tuple[str, int]] = {}
        self._nonces: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self.app = self._build_app()
        self._serving = ExitStack()
        self._port = 0

    @property
    def url(self) -> str:
        """The base URL to give the connector."""
        return f"http://127.0.0.1:{self._port}"

    def start(self, timeout_s: float = 30) -> PublikStandIn:
        """Serve in a daemon thread; returns once the port is open."""
        self._port = self._serving.enter_context(serve_app(self.app, start_timeout_s=timeout_s))
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._serving.close()

    def __enter__(self) -> PublikStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def form(self, slug: str, form_id: int | str) -> StandInForm:
        """A filed form (KeyError when there is none)."""
        return self.forms[slug][int(form_id)]

    def set_status(self, slug: str, form_id: int | str, status: str) -> None:
        """Move a form, as an agent would in Publik's back office."""
        with self._lock:
            form = self.form(slug, form_id)
            form.status = status
            form.last_update_time = self._local_now()

    # -- the signature, as w.c.s. checks it -------------------------------------------------

    def refusal(self, query: str) -> str | None:
        """Why w.c.s. would refuse a call with this raw query string, or None."""
        params = parse_qs(query, keep_blank_values=True)

        def single(name: str) -> str | None:
            values = params.get(name)
            return values[0] if values is not None and len(values) == 1 else None

        signature = single("signature")
        if not query or signature is None:
            return "Unsigned API call."
        orig = single("orig")
        if orig is None:
            return "Missing/multiple orig field."
        key = self.keys.get(orig)
        if not key:
            return "Invalid orig."
        algo = single("algo")
        if algo is None:
            return "Missing/multiple algo field."
        if algo not in hashlib.algorithms_guaranteed:
            return "Invalid algo."
        signed = query[: query.find("&signature=")].encode()
        expected = base64.standard_b64encode(hmac.new(key.encode(), signed, algo).digest())
        if not hmac.compare_digest(signature.encode(), expected):
            return "Invalid signature."
        return self._timely(single("timestamp"), single("nonce"))

    def _timely(self, timestamp: str | None, nonce: str | None) -> str | None:
        """The timestamp's and the nonce's part of the check (the nonce is then used up)."""
        if timestamp is None:
            return "Missing/multiple timestamp field."
        try:
            moment = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError as exc:
            return f"Invalid timestamp field; {exc}."
        now = self.clock()
        if abs(now - moment) > self.duration:
            period = "past" if now > moment else "future"
            seconds = self.duration.seconds
            return f"timestamp is more than {seconds} seconds in the {period}: {abs(now - moment)}"
        if nonce:
            nonce = nonce[:128].replace("/", "-")
            with self._lock:
                self._nonces = {n: t for n, t in self._nonces.items() if t > now}
                if nonce in self._nonces:
                    return "Nonce already used."
                self._nonces[nonce] = now + self.duration
        return None

    # -- the API ----------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI(openapi_url=None)

        @app.middleware("http")
        async def check(request: Request, call_next: Callable[[Request], Any]) -> Response:
            reason = self.refusal(request.url.query)
            if reason is not None:
                self.refusals.append(reason)
                response: Response = _error(403, "Access forbidden", reason)
            elif self._failing():
                response = _error(500, "Internal error", "Erreur interne (simulée).")
            else:
                response = await call_next(request)
            self.requests.append((request.method, request.url.path, response.status_code))
            return response

        @app.post("/api/formdefs/{slug}/submit")
        async def submit(slug: str, request: Request) -> Response:
            try:
                payload = await request.json()
            except ValueError:
                payload = None
            return self._submit(slug, payload)

        @app.get("/api/forms/{slug}/{form_id}/")
        def read(slug: str, form_id: str) -> Response:
            form = self._find(slug, form_id)
            return JSONResponse(self._json(form)) if form else _not_found()

        @app.post("/api/forms/{slug}/{form_id}/jump/trigger/{trigger}/")
        async def jump(slug: str, form_id: str, trigger: str, request: Request) -> Response:
            body = await request.body()
            data = await request.json() if body else None
            return self._jump(slug, form_id, trigger, data)

        @app.get("/api/code/{code}")
        def code(code: str) -> Response:
            with self._lock:
                found = self._codes.get(code.upper())
            if found is None:
                return _not_found()
            url = self._front_url(*found)
            return JSONResponse({"err": 0, "url": url, "load_url": f"{url}?tmp-access=x"})

        return app

    def _failing(self) -> bool:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return True
        return False

    def _submit(self, slug: str, payload: Any) -> Response:
        if slug not in self.formdefs:
            return _not_found()
        if not isinstance(payload, dict):
            return _error(400, "Request error", "Invalid payload.")
        data = payload.get("data", {})
        if not isinstance(data, dict):
            return _error(400, "Request error", "Invalid data parameter.")
        context = payload.get("context") or {}
        now = self._local_now()
        with self._lock:
            form_id = len(self.forms[slug]) + 1
            code = self._new_code() if self.tracking_codes else None
            form = StandInForm(
                formdef_id=self.formdefs[slug],
                slug=slug,
                id=form_id,
                data=dict(data),
                channel=str(context.get("channel") or "web"),
                status=self.workflow.initial,
                tracking_code=code,
                receipt_time=now,
                last_update_time=now,
            )
            self.forms[slug][form_id] = form
            if code is not None:
                self._codes[code] = (slug, form_id)
        url = self._front_url(slug, form_id)
        answer: dict[str, Any] = {
            "err": 0,
            "data": {
                "id": str(form_id),
                "url": url,
                "backoffice_url": url.replace(self.url, f"{self.url}/backoffice/management"),
                "api_url": f"{self.url}/api/forms/{slug}/{form_id}/",
            },
        }
        if code is not None:
            answer["tracking_code"] = code
        return JSONResponse(answer)

    def _jump(self, slug: str, form_id: str, trigger: str, data: Any) -> Response:
        with self._lock:
            form = self._find(slug, form_id)
            if form is None:
                return _not_found()
            target = self.workflow.jumps.get(form.status, {}).get(trigger)
            if target is None:
                return _not_found()
            form.jumps.append(
                {"trigger": trigger, "from": form.status, "to": target, "workflow_data": data}
            )
            form.status = target
            form.last_update_time = self._local_now()
        return JSONResponse({"err": 0, "url": None})

    def _find(self, slug: str, form_id: str) -> StandInForm | None:
        if not form_id.isdigit():
            return None
        return self.forms.get(slug, {}).get(int(form_id))

    def _json(self, form: StandInForm) -> dict[str, Any]:
        """The form as ``GET /api/forms/<slug>/<id>/`` shows it."""
        status = {
            "id": form.status,
            "name": self.workflow.statuses.get(form.status, form.status),
            "endpoint": not self.workflow.jumps.get(form.status),
        }
        return {
            "id": str(form.id),
            "internal_id": str(form.id),
            "display_id": f"{form.formdef_id}-{form.id}",
            "url": self._front_url(form.slug, form.id),
            "api_url": f"{self.url}/api/forms/{form.slug}/{form.id}/",
            "receipt_time": form.receipt_time.isoformat(),
            "last_update_time": form.last_update_time.isoformat(),
            "criticality_level": 0,
            "fields": dict(form.data),
            "workflow": {"status": status, "real_status": status},
            "submission": {"backoffice": False, "channel": form.channel},
        }

    def _front_url(self, slug: str, form_id: int) -> str:
        return f"{self.url}/{slug}/{form_id}/"

    def _new_code(self) -> str:
        while True:
            code = "".join(secrets.choice(CODE_CHARS) for _ in range(CODE_SIZE))
            if code not in self._codes:
                return code

    def _local_now(self) -> datetime:
        """w.c.s. shows the town's local time, without zone, to the second."""
        return self.clock().astimezone(_LOCAL).replace(tzinfo=None, microsecond=0)


def _error(status: int, err_class: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"err": 1, "err_class": err_class, "err_desc": description}, status_code=status
    )


def _not_found() -> JSONResponse:
    return _error(404, "Page not found", "Page introuvable.")

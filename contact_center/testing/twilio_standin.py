"""A local stand-in for Twilio's REST API, to test SMS sending and call transfers without the
network.

It speaks the two resources that the project uses, with a form body and HTTP basic
authentication (account SID, auth token):

* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (``To``, ``From``, ``Body``), as
  :class:`contact_center.gru.notifications.TwilioSmsNotifier` sends an SMS: ``201`` with the message
  resource; accepted messages are kept in :attr:`TwilioStandIn.messages`.
* ``POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`` (``Twiml``), as
  :mod:`channels.twilio.transfer` hands a live call to a person: ``200`` with the call resource;
  accepted updates are kept in :attr:`TwilioStandIn.updates`.

Answers look like Twilio's: the resource, or an error document ``{code, message, more_info,
status}``. The official ``twilio`` client is pointed at it through the settings' ``base_url``::

    with TwilioStandIn("AC" + "0" * 32, "token", fail_first=1) as twilio:
        notifier = TwilioSmsNotifier(TwilioSmsSection(..., base_url=twilio.url))

Behaviour, for both resources: an unknown path gets ``404`` (code 20404); wrong credentials get
``401`` (code 20003, counted in :attr:`TwilioStandIn.refused`); the first ``fail_first`` valid
requests get ``500`` (code 20500) to exercise retries. A message whose ``To`` is not in E.164
gets ``400`` (code 21211, as Twilio does). Every request, accepted or not, is recorded in
:attr:`TwilioStandIn.requests` as ``(HTTP status, form fields)``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
_CALL = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Calls/(?P<call>[^/]+)\.json$")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


class TwilioStandIn:
    """A threaded HTTP server on a free loopback port that imitates Twilio's REST API (the
    Messages and Calls resources; see the module's documentation).

    Args:
        account_sid: The account SID the requests must name (in the path and the credentials).
        auth_token: The auth token of the basic authentication.
        fail_first: How many valid requests to answer with ``500`` before accepting any.
    """

    def __init__(self, account_sid: str, auth_token: str, *, fail_first: int = 0) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.fail_first = fail_first
        #: Accepted messages: ``{"sid", "to", "from", "body"}`` in arrival order.
        self.messages: list[dict[str, str]] = []
        #: Accepted call updates: ``{"call_sid", "twiml", "at"}`` in arrival order.
        self.updates: list[dict[str, Any]] = []
        #: Every request, accepted or not: ``(HTTP status, form fields)``.
        self.requests: list[tuple[int, dict[str, str]]] = []
        #: How many requests were refused for their credentials.
        self.refused = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def calls(self) -> list[tuple[int, dict[str, str]]]:
        """Every request, accepted or not (an older name of :attr:`requests`)."""
        return self.requests

    @property
    def url(self) -> str:
        """Base URL to use instead of ``https://api.twilio.com``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> TwilioStandIn:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> TwilioStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def answer(self, path: str, authorization: str, form: dict[str, str]) -> tuple[int, Any]:
        """The status and JSON document for one request (the HTTP layer is in the handler)."""
        message = _MESSAGES.match(path)
        call = _CALL.match(path)
        match = message or call
        if match is None:
            return 404, _error(20404, "The requested resource was not found", 404)
        if match["sid"] != self.account_sid or authorization != self._expected_auth():
            with self._lock:
                self.refused += 1
            return 401, _error(20003, "Authentication Error - invalid username", 401)
        if message is not None and not _E164.match(form.get("To", "")):
            return 400, _error(21211, f"The 'To' number {form.get('To')} is not valid.", 400)
        with self._lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                return 500, _error(20500, "Internal Server Error", 500)
            if call is not None:
                return 200, self._update_call(path, call["call"], form)
            return 201, self._send_message(form)

    def _expected_auth(self) -> str:
        pair = f"{self.account_sid}:{self.auth_token}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def _send_message(self, form: dict[str, str]) -> dict[str, Any]:
        """Keep one message (under the lock) and return its resource."""
        sid = "SM" + uuid.uuid4().hex
        now = formatdate(usegmt=True)
        self.messages.append(
            {
                "sid": sid,
                "to": form["To"],
                "from": form.get("From", ""),
                "body": form.get("Body", ""),
            }
        )
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form["To"],
            "from": form.get("From"),
            "body": form.get("Body", ""),
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "price": None,
            "price_unit": "EUR",
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "messaging_service_sid": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {},
        }

    def _update_call(self, path: str, call_sid: str, form: dict[str, str]) -> dict[str, Any]:
        """Keep one call update (under the lock) and return the call's resource."""
        self.updates.append(
            {"call_sid": call_sid, "twiml": form.get("Twiml", ""), "at": time.time()}
        )
        return {
            "sid": call_sid,
            "account_sid": self.account_sid,
            "status": "in-progress",
            "api_version": "2010-04-01",
            "uri": path,
        }


def _error(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _handler_for(stand_in: TwilioStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server naming
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {key: values[0] for key, values in parse_qs(raw).items()}
            authorization = self.headers.get("Authorization", "")
            status, document = stand_in.answer(self.path.split("?")[0], authorization, form)
            with stand_in._lock:
                stand_in.requests.append((status, form))
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Quiet: tests read :attr:`TwilioStandIn.requests` instead of the log."""

    return Handler

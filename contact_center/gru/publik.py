"""The Publik connector: residents' requests filed as forms of a town's w.c.s.

:class:`PublikGru` is a :class:`~contact_center.gru.connector.GruConnector` over w.c.s.'s REST
API, every call signed with Publik's HMAC query signature
(:mod:`contact_center.gru.publik_signature`):

* filing submits the service's form, ``POST /api/formdefs/<slug>/submit`` with
  ``{"data": {...}, "meta": {...}, "context": {"channel": ...}}``; the resident is given the
  form's own number (``display_id``, as the town's agents see it in Publik) and w.c.s.'s own
  tracking code (eight consonants, ``tracking_code`` of the answer);
* a tracking code is looked up with ``GET /api/code/<code>``, then the form is read with
  ``GET /api/forms/<slug>/<id>/`` (its workflow status);
* a status change is a jump of the form's workflow « par déclencheur »,
  ``POST /api/forms/<slug>/<id>/jump/trigger/<trigger>/``, with ``{"actor", "reason"}`` as its
  workflow data.

Which form serves which service, which w.c.s. statuses mean which of ours and which trigger leads
where come from the town's mapping file (:mod:`contact_center.gru.publik_mapping`). A case id is
``<service code>:<form id>``; due dates are counted, as for the built-in store, in French working
days from the day w.c.s. received the form and the service's response target in the commune's
catalogue.

Failures: a w.c.s. that cannot be reached, fails (5xx) or refuses the call (401/403) raises
:class:`~contact_center.errors.GruUnavailableError` (nothing was recorded, the same request may
be made again: the assistant keeps the resident's request and offers to retry; only a call cut
off after it was sent says that it may have been recorded); a form w.c.s. rejects as malformed
(400) raises :class:`~contact_center.errors.InvalidCaseError`. Once w.c.s.
has accepted a form, filing no longer fails: a receipt is returned even if reading the form back
does not work, so that a retry never files the request twice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlparse

import httpx

from contact_center.db import utcnow
from contact_center.errors import (
    CaseNotFoundError,
    GruUnavailableError,
    InvalidCaseError,
    InvalidTransitionError,
)
from contact_center.gru.case_domain import (
    CaseContact,
    CaseDraft,
    CaseReceipt,
    CaseStatus,
    CitizenCaseStatus,
    check_transition,
    kept_contact,
    parse_status,
    validate_draft,
)
from contact_center.gru.notices import receipt_message
from contact_center.gru.publik_mapping import PublikMapping, load_mapping
from contact_center.gru.publik_signature import sign_query
from contact_center.gru.service_catalogue import ServiceCatalogue, ServiceEntry
from contact_center.gru.working_days import add_working_days, paris_date
from contact_center.settings import PublikSection
from routing.service_definitions import TRIAGE_SERVICE

log = logging.getLogger(__name__)

#: w.c.s.'s tracking codes: eight consonants (``wcs/tracking_code.py``), read in any case.
TRACKING_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{8}$")
_SEPARATORS = re.compile(r"[\s\-._/]+")
#: Statuses whose change must say why, as in the built-in store (w.c.s. receives it).
_REASON_REQUIRED = frozenset({CaseStatus.REJECTED, CaseStatus.WAITING_FOR_RESIDENT})

UNREACHABLE = (
    "La GRU Publik de la commune ne répond pas pour le moment : rien n'y a été enregistré. "
    "Merci de réessayer dans quelques minutes."
)
NO_ANSWER = (
    "La GRU Publik de la commune n'a pas répondu à temps : l'opération a pu y être enregistrée. "
    "Merci de vérifier dans Publik avant de la refaire."
)
FAILED = (
    "La GRU Publik de la commune a rencontré une erreur : rien n'y a été enregistré. "
    "Merci de réessayer dans quelques minutes."
)
REFUSED = (
    "La GRU Publik de la commune a refusé l'opération (accès du centre de contact, signature "
    "des appels ou règle du circuit de traitement) : rien n'y a été enregistré."
)
UNREADABLE = "La GRU Publik de la commune a renvoyé une réponse illisible."
MALFORMED = (
    "La GRU Publik de la commune a refusé cette demande : le formulaire « {slug} » ne l'accepte "
    "pas. Merci de contacter directement le service."
)


def normalise_publik_code(text: str) -> str | None:
    """The canonical form of a w.c.s. tracking code as typed, or None when it cannot be one.

    >>> normalise_publik_code(" rpdb-kdqn ")
    'RPDBKDQN'
    """
    symbols = _SEPARATORS.sub("", text or "").upper()
    return symbols if TRACKING_CODE.match(symbols) else None


@dataclass(frozen=True)
class _Form:
    """What the connector reads of a w.c.s. form."""

    number: str
    status_id: str
    status_name: str
    received_on: date
    updated_on: date


class PublikGru:
    """Cases filed as forms of a town's Publik (see the module's documentation).

    Args:
        url: w.c.s.'s base URL (``https://demarches.val-fleuri.fr``).
        orig: The contact centre's identifier at Publik (its API access).
        key: The secret shared with Publik for ``orig``.
        mapping: The town's forms, statuses, triggers and fields.
        catalogue: The communes' services (names, response targets).
        algo: The signature's hash (``sha256``).
        timeout_s: How long to wait for w.c.s. on each call.
        clock: Current UTC time, signed into each call.
        transport: An ``httpx`` transport in place of the network (tests).
    """

    def __init__(
        self,
        *,
        url: str,
        orig: str,
        key: str,
        mapping: PublikMapping,
        catalogue: ServiceCatalogue,
        algo: str = "sha256",
        timeout_s: float = 10.0,
        clock: Callable[[], datetime] = utcnow,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.mapping = mapping
        self._orig = orig
        self._key = key
        self._algo = algo
        self._catalogue = catalogue
        self._clock = clock
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout_s, transport=transport)

    @classmethod
    def from_settings(cls, section: PublikSection, catalogue: ServiceCatalogue) -> PublikGru:
        """The connector ``CC_GRU__PUBLIK__*`` describe (checked by the settings)."""
        assert section.url and section.orig and section.key and section.mapping_file
        return cls(
            url=section.url,
            orig=section.orig,
            key=section.key.get_secret_value(),
            mapping=load_mapping(section.mapping_file),
            catalogue=catalogue,
            algo=section.algo,
            timeout_s=section.timeout_s,
        )

    def close(self) -> None:
        """Release the connections to w.c.s."""
        self._http.close()

    # -- the port ---------------------------------------------------------------------------

    def file_case(self, draft: CaseDraft) -> CaseReceipt:
        """Submit the service's form; the receipt carries w.c.s.'s number and tracking code.

        Raises:
            InvalidCaseError: the draft cannot be filed, or w.c.s. rejects the form's data.
            GruUnavailableError: w.c.s. cannot be reached, fails or refuses the call.
        """
        validate_draft(draft)
        contact = kept_contact(draft.contact)
        service, slug = self._service_form(draft.tenant_id, draft.service)
        payload = {
            "data": self._form_data(draft, contact),
            "meta": {"draft": False},
            "context": {"channel": "phone" if draft.channel == "phone" else "web"},
        }
        response = self._send("POST", f"/api/formdefs/{quote(slug)}/submit", payload)
        if response.status_code == 400:
            log.warning("publik refused a form slug=%s detail=%s", slug, _detail(response))
            raise InvalidCaseError(MALFORMED.format(slug=slug))
        answer = self._answer(response)
        form_id = str(answer["data"]["id"])
        code = str(answer.get("tracking_code") or "")
        log.info("case filed in publik tenant=%s slug=%s id=%s", draft.tenant_id, slug, form_id)
        if not code:
            log.error("publik form without tracking codes slug=%s id=%s", slug, form_id)
        form = self._read_back(slug, form_id)
        number = form.number if form else form_id
        received_on = form.received_on if form else paris_date(self._clock())
        status = (self.mapping.status_of(form.status_id) if form else None) or CaseStatus.RECEIVED
        due = add_working_days(received_on, service.target_response_days)
        return CaseReceipt(
            case_id=f"{service.code}:{form_id}",
            number=number,
            tracking_code=code,
            service=service.code,
            status=status,
            status_label=status.citizen_label,
            due_date=due,
            service_name=service.name,
            contact_kept=contact is not None,
            message=receipt_message(number, service.name, code, due, []),
        )

    def citizen_status(self, tenant_id: str, tracking_code: str) -> CitizenCaseStatus | None:
        """The resident's view of the commune's form with this w.c.s. tracking code, else None.

        Raises:
            GruUnavailableError: w.c.s. cannot be reached, fails or refuses the call.
        """
        code = normalise_publik_code(tracking_code)
        if code is None or tenant_id not in self.mapping.forms:
            return None
        response = self._send("GET", f"/api/code/{code}")
        if response.status_code == 404:
            return None
        address = _form_address(str(self._answer(response).get("url") or ""))
        owner = self.mapping.owner_of(address[0]) if address else None
        if address is None or owner is None or owner[0] != tenant_id:
            return None
        form = self._form(*address)
        if form is None:
            return None
        entry = self._catalogue.get(tenant_id, owner[1])
        status = self.mapping.status_of(form.status_id)
        return CitizenCaseStatus(
            tracking_code=code,
            service_name=entry.name if entry else owner[1],
            status_label=status.citizen_label if status else form.status_name,
            updated_on=form.updated_on,
            due_date=add_working_days(form.received_on, entry.target_response_days if entry else 0),
        )

    def update_status(
        self,
        tenant_id: str,
        case_id: str,
        status: CaseStatus | str,
        actor: str,
        reason: str | None = None,
    ) -> None:
        """Jump the form's workflow to ``status`` through the mapped trigger.

        Raises:
            CaseNotFoundError: no such form among the commune's.
            InvalidTransitionError: our life cycle, the mapping or the town's workflow does
                not allow this move from the form's current status.
            InvalidCaseError: an unknown status, or a missing reason where one is required.
            GruUnavailableError: w.c.s. cannot be reached, fails or refuses the call.
        """
        target = parse_status(status)
        reason = (reason or "").strip() or None
        if target in _REASON_REQUIRED and reason is None:
            raise InvalidCaseError("Merci d'indiquer le motif de ce changement de statut.")
        slug, form_id = self._case_address(tenant_id, case_id)
        form = self._form(slug, form_id)
        if form is None:
            raise CaseNotFoundError()
        current = self.mapping.status_of(form.status_id)
        if current is not None:
            check_transition(current, target)
        from_label = current.internal_label if current else form.status_name
        trigger = self.mapping.triggers.get(target)
        if trigger is None:
            raise InvalidTransitionError(from_label, target.internal_label)
        path = f"/api/forms/{quote(slug)}/{quote(form_id)}/jump/trigger/{quote(trigger)}/"
        response = self._send("POST", path, {"actor": actor, "reason": reason or ""})
        if response.status_code == 404:  # the workflow offers no such trigger from here
            raise InvalidTransitionError(from_label, target.internal_label)
        self._answer(response)
        log.info("publik status changed slug=%s id=%s trigger=%s", slug, form_id, trigger)

    # -- mapping ----------------------------------------------------------------------------

    def _service_form(self, tenant_id: str, service: str) -> tuple[ServiceEntry, str]:
        """The commune's active service with a form, else its general reception's."""
        for code in dict.fromkeys((service, TRIAGE_SERVICE)):
            entry = self._catalogue.get(tenant_id, code)
            slug = self.mapping.form_of(tenant_id, code)
            if entry is not None and entry.active and slug:
                return entry, slug
        raise InvalidCaseError("Ce service n'est pas proposé par la commune.")

    def _case_address(self, tenant_id: str, case_id: str) -> tuple[str, str]:
        """``(slug, form id)`` of one of the commune's case ids."""
        service, _, form_id = case_id.partition(":")
        slug = self.mapping.form_of(tenant_id, service)
        if not slug or not form_id or "/" in form_id:
            raise CaseNotFoundError()
        return slug, form_id

    def _form_data(self, draft: CaseDraft, contact: CaseContact | None) -> dict[str, str]:
        """The form's fields, by identifier (contact details only with consent)."""
        pieces = {
            "summary": draft.summary.strip(),
            "description": draft.description.strip(),
            "location": (draft.location or "").strip(),
            "priority": draft.priority,
        }
        if contact is not None:
            pieces.update(name=contact.name or "", email=contact.email or "")
            pieces["phone"] = contact.phone or ""
        fields = self.mapping.fields
        return {fields[name]: value for name, value in pieces.items() if value and name in fields}

    # -- w.c.s. -----------------------------------------------------------------------------

    def _form(self, slug: str, form_id: str) -> _Form | None:
        """A form as w.c.s. describes it, None when w.c.s. does not know it."""
        response = self._send("GET", f"/api/forms/{quote(slug)}/{quote(form_id)}/")
        if response.status_code == 404:
            return None
        return _parse_form(self._answer(response), paris_date(self._clock()))

    def _read_back(self, slug: str, form_id: str) -> _Form | None:
        """The form just filed, or None when it cannot be read now (the filing stands)."""
        try:
            return self._form(slug, form_id)
        except GruUnavailableError as exc:
            log.warning("publik form not read back slug=%s id=%s detail=%s", slug, form_id, exc)
            return None

    def _send(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """One signed call; 404 and 400 are left to the caller.

        Raises:
            GruUnavailableError: unreachable, 401/403, 5xx or another unexpected status.
        """
        query = sign_query(
            urlencode({"orig": self._orig}), self._key, algo=self._algo, timestamp=self._clock()
        )
        try:
            response = self._http.request(method, f"{path}?{query}", json=body)
        except httpx.HTTPError as exc:
            log.warning("publik unreachable path=%s error=%s", path, type(exc).__name__)
            # Only a call that never got through surely left nothing behind in w.c.s.
            never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            message = UNREACHABLE if never_sent else NO_ANSWER
            raise GruUnavailableError(message, detail=str(exc)) from exc
        if response.status_code in (200, 201, 400, 404):
            return response
        status, detail = response.status_code, _detail(response)
        log.warning("publik refused path=%s status=%s detail=%s", path, status, detail)
        message = REFUSED if status in (401, 403) else FAILED
        raise GruUnavailableError(message, detail=f"HTTP {status} {detail}")

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        """The JSON object of a successful answer.

        Raises:
            GruUnavailableError: an unexpected 400 or 404, not JSON, or an ``err`` code.
        """
        if response.status_code not in (200, 201):
            raise GruUnavailableError(FAILED, detail=f"HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise GruUnavailableError(UNREADABLE, detail=response.text[:200]) from exc
        if not isinstance(answer, dict) or answer.get("err", 0) not in (0, "0", None):
            raise GruUnavailableError(FAILED, detail=str(answer)[:200])
        return answer


def _parse_form(answer: Mapping[str, Any], today: date) -> _Form:
    """The pieces of a w.c.s. form's JSON the connector uses."""
    workflow = answer.get("workflow") or {}
    status = workflow.get("real_status") or workflow.get("status") or {}
    received_on = _day(answer.get("receipt_time")) or today
    return _Form(
        number=str(answer.get("display_id") or answer.get("id") or ""),
        status_id=str(status.get("id") or ""),
        status_name=str(status.get("name") or ""),
        received_on=received_on,
        updated_on=_day(answer.get("last_update_time")) or received_on,
    )


def _day(value: Any) -> date | None:
    """The Paris date of a w.c.s. time (naive times are the town's local time)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return paris_date(moment) if moment.tzinfo else moment.date()


def _form_address(url: str) -> tuple[str, str] | None:
    """``(slug, id)`` of a form's URL (``https://host/[category/]<slug>/<id>/``)."""
    parts = [part for part in urlparse(url).path.split("/") if part]
    return (parts[-2], parts[-1]) if len(parts) >= 2 else None


def _detail(response: httpx.Response) -> str:
    """What w.c.s. said about a refusal (``err_desc``), for the logs."""
    try:
        answer = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(answer, dict):
        return str(answer.get("err_desc") or answer.get("err_class") or answer)[:200]
    return str(answer)[:200]

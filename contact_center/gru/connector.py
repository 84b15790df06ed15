"""The GRU port: how the contact centre files cases and reads their status.

The conversation engine, the channels and the public tracking page only talk to a
:class:`GruConnector`. Two implementations ship:

* :class:`BuiltinGru`, the default: cases live in the contact centre's own database
  (:class:`contact_center.gru.cases.CaseStore`), agents work them in the console.
* :class:`contact_center.testing.fakes.FakeGru`, in memory, for tests of the parts that file
  cases (engine, channels).

Plugging another GRU (a CRM, a ticketing tool): write a class with the three
methods of :class:`GruConnector` that calls the town's API (map ``CaseDraft.service`` to the
town's own categories, return the town's case number and a tracking code the resident can use
with it, translate its errors into :class:`~contact_center.errors.CaseError` or
:class:`~contact_center.errors.BackendError`), add its name to ``GruSection.backend`` and a
branch in :func:`build_gru`, and run :class:`contact_center.testing.contracts.GruContract`
against it (see that module's documentation).
The agents' REST API (``contact_center/web/cases_api.py``) serves the built-in store only.
"""

from __future__ import annotations

from typing import Protocol

from contact_center.gru.cases import (
    CaseDraft,
    CaseReceipt,
    CaseStatus,
    CaseStore,
    CitizenCaseStatus,
)
from contact_center.gru.publik import PublikGru
from contact_center.gru.service_catalogue import ServiceCatalogue
from contact_center.settings import GruSection
from foundation.errors import ConfigurationError


class GruConnector(Protocol):
    """Files residents' requests as cases and tells their status."""

    def file_case(self, draft: CaseDraft) -> CaseReceipt:
        """Register a request; the receipt carries the number and the tracking code.

        Raises:
            InvalidCaseError: the draft cannot be filed (French reason).
        """

    def citizen_status(self, tenant_id: str, tracking_code: str) -> CitizenCaseStatus | None:
        """The resident's view for a tracking code of this commune, else None."""

    def update_status(
        self,
        tenant_id: str,
        case_id: str,
        status: CaseStatus | str,
        actor: str,
        reason: str | None = None,
    ) -> None:
        """Move a case to another status.

        Raises:
            CaseNotFoundError: no such case in this commune.
            InvalidTransitionError: the life cycle does not allow it.
        """


class BuiltinGru:
    """Cases in the contact centre's own database."""

    def __init__(self, cases: CaseStore) -> None:
        self.cases = cases

    def file_case(self, draft: CaseDraft) -> CaseReceipt:
        return self.cases.file(draft)

    def citizen_status(self, tenant_id: str, tracking_code: str) -> CitizenCaseStatus | None:
        return self.cases.citizen_status(tenant_id, tracking_code)

    def update_status(
        self,
        tenant_id: str,
        case_id: str,
        status: CaseStatus | str,
        actor: str,
        reason: str | None = None,
    ) -> None:
        self.cases.transition(tenant_id, case_id, status, actor=actor, reason=reason)


def build_gru(
    settings: GruSection, cases: CaseStore, catalogue: ServiceCatalogue | None = None
) -> GruConnector:
    """The connector the settings name: ``builtin``, or ``publik`` (which needs the catalogue).

    Raises:
        ConfigurationError: ``publik`` without a catalogue, or an unusable mapping file.
    """
    if settings.backend == "builtin":
        return BuiltinGru(cases)
    if settings.backend == "publik":
        if catalogue is None:
            raise ConfigurationError("the publik GRU needs the communes' service catalogue")
        return PublikGru.from_settings(settings.publik, catalogue)
    raise AssertionError(f"unknown GRU backend {settings.backend!r}")  # pragma: no cover

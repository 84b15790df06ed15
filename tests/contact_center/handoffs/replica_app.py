"""App factory of the two-replica test (``uvicorn tests.contact_center.handoffs.replica_app:create
--factory``): the real app built from the variables the test sets (no ``.env``), with keyword
routing and the handoff desk's clock inside the agents' opening hours."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI

from contact_center.app import create_app
from contact_center.services import Services
from contact_center.settings import Settings
from routing.testing.fakes import FakeRequestClassifier

#: Wednesday 25 November 2026, 10:00 in Paris: agents are there.
OPEN = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def create() -> FastAPI:
    """One replica."""
    services = Services(Settings(_env_file=None), classifier=FakeRequestClassifier())
    assert services.engine.desk is not None
    services.engine.desk.clock = lambda: OPEN
    return create_app(services=services)

"""Contract test mixins of the contact centre's ports: what every implementation must do.

Each mixin is a class of pytest tests that asks its subclass for the implementation through
fixtures; the fakes of :mod:`contact_center.testing.fakes` and the shipped implementations
pass them (``tests/contact_center/``), and so must a town's own.

* :class:`GruContract`: a :class:`~contact_center.gru.connector.GruConnector` (fixture
  ``gru``). Cases are filed for the communes ``demo`` and ``autreville``, services of the demo
  catalogue (:data:`routing.service_definitions.DEMO_CATALOGUE`); the tracking codes' and
  numbers' formats are class attributes a town's GRU may set to its own.
* :class:`NotifierContract`: a :class:`~contact_center.gru.notifications.Notifier` (fixtures
  ``notifier``; ``delivered``, what reached the far side as ``(recipient, body)`` pairs;
  ``unreachable``, the same sender pointed at a backend that cannot be reached).
* :class:`RateLimiterContract`: a :class:`~contact_center.ratelimit.RateLimiter` (fixture
  ``make_limiter``: builds one for a number of messages per minute and a clock in seconds).

A town runs a contract against its own implementation from the installed package, in its own
test folder (pytest installed)::

    # tests/test_our_gru.py
    import pytest

    from contact_center.testing.contracts import GruContract
    from our_town.gru import PublikGru

    class TestPublikGru(GruContract):
        @pytest.fixture
        def gru(self):
            return PublikGru(base_url="https://publik.test.our-town.fr", token="...")

Then ``pytest tests/test_our_gru.py``. For pytest's detailed assertion messages, call
``pytest.register_assert_rewrite("contact_center.testing.contracts")`` at the top of the
town's ``conftest.py``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import ClassVar

import pytest

from contact_center.errors import (
    CaseNotFoundError,
    InvalidCaseError,
    InvalidTransitionError,
    NotificationError,
)
from contact_center.gru.cases import CaseContact, CaseDraft, CaseStatus
from contact_center.gru.connector import GruConnector
from contact_center.gru.notifications import Channel, Notifier, OutgoingMessage
from contact_center.ratelimit import RateLimiter

#: A tracking code as residents read it (Crockford's base 32, in three groups).
TRACKING_CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}$")

#: Builds a rate limiter for ``per_minute`` messages, reading the time from ``clock`` (seconds).
LimiterFactory = Callable[[int, Callable[[], float]], RateLimiter]


def street_light(tenant_id: str = "demo", contact: CaseContact | None = None) -> CaseDraft:
    """A resident's report of a broken street light, for the road service."""
    return CaseDraft(
        tenant_id=tenant_id,
        service="voirie",
        channel="web",
        summary="Lampadaire en panne",
        description="Le lampadaire ne s'allume plus.",
        location="12 rue des Lilas",
        contact=contact,
        priority="normal",
        actor="assistant",
    )


class GruContract:
    """What every :class:`~contact_center.gru.connector.GruConnector` must do.

    A town's GRU keeps its own formats: a subclass sets :attr:`tracking_code_format` and
    :attr:`number_format` to them (Publik: eight consonants, ``<form>-<number>``).
    """

    #: The tracking codes residents are given (the built-in store's by default).
    tracking_code_format: ClassVar[re.Pattern[str]] = TRACKING_CODE
    #: The case numbers residents are given (the built-in store's ``2026-000123`` by default).
    number_format: ClassVar[re.Pattern[str]] = re.compile(r"^\d{4}-\d{6}$")

    @pytest.fixture
    def gru(self) -> GruConnector:
        """The connector under test (its communes know the demo catalogue's services)."""
        raise NotImplementedError

    def test_filing_returns_a_receipt_with_a_tracking_code(self, gru: GruConnector) -> None:
        receipt = gru.file_case(street_light())
        assert self.tracking_code_format.match(receipt.tracking_code)
        assert self.number_format.fullmatch(receipt.number)
        assert receipt.service == "voirie" and receipt.status is CaseStatus.RECEIVED
        assert receipt.status_label == "Reçue"
        assert receipt.service_name == "Service Voirie et espaces publics"
        assert receipt.tracking_code in receipt.message

    def test_the_citizen_status_follows_the_case(self, gru: GruConnector) -> None:
        receipt = gru.file_case(street_light())
        typed = receipt.tracking_code.lower().replace("-", " ")
        status = gru.citizen_status("demo", typed)
        assert status is not None and status.status_label == "Reçue"
        assert status.due_date == receipt.due_date
        gru.update_status("demo", receipt.case_id, "acknowledged", "agent-voirie", None)
        status = gru.citizen_status("demo", receipt.tracking_code)
        assert status is not None and status.status_label == "Prise en charge"

    def test_codes_do_not_cross_communes(self, gru: GruConnector) -> None:
        receipt = gru.file_case(street_light())
        assert gru.citizen_status("autreville", receipt.tracking_code) is None
        assert gru.citizen_status("demo", "0000-0000-00") is None
        assert gru.citizen_status("demo", "n'importe quoi") is None
        with pytest.raises(CaseNotFoundError):
            gru.update_status("autreville", receipt.case_id, "acknowledged", "agent", None)

    def test_the_life_cycle_is_enforced(self, gru: GruConnector) -> None:
        receipt = gru.file_case(street_light())
        with pytest.raises(InvalidTransitionError):
            gru.update_status("demo", receipt.case_id, CaseStatus.CLOSED, "agent", None)

    def test_contact_without_consent_is_not_kept(self, gru: GruConnector) -> None:
        receipt = gru.file_case(street_light(contact=CaseContact(email="a@b.fr")))
        assert receipt.contact_kept is False
        kept = gru.file_case(street_light(contact=CaseContact(email="a@b.fr", consent=True)))
        assert kept.contact_kept is True

    def test_bad_drafts_are_refused(self, gru: GruConnector) -> None:
        with pytest.raises(InvalidCaseError):
            gru.file_case(CaseDraft("demo", "piscine", "web", "Horaires", ""))


class NotifierContract:
    """What every :class:`~contact_center.gru.notifications.Notifier` must do.

    Subclasses set :attr:`channel` and :attr:`recipient` to what their sender delivers.
    """

    channel: ClassVar[Channel] = "email"
    recipient: ClassVar[str] = "jeanne.martin@example.fr"

    @pytest.fixture
    def notifier(self) -> Notifier:
        """The sender under test, pointed at a backend that accepts messages."""
        raise NotImplementedError

    @pytest.fixture
    def delivered(self) -> Callable[[], list[tuple[str, str]]]:
        """Reads what the backend received so far, as ``(recipient, body)`` pairs."""
        raise NotImplementedError

    @pytest.fixture
    def unreachable(self) -> Notifier:
        """The same kind of sender, whose backend cannot be reached or fails for now."""
        raise NotImplementedError

    def message(self, body: str, number: int = 1) -> OutgoingMessage:
        """A notice to :attr:`recipient` on :attr:`channel`."""
        subject = f"Votre demande n° 2026-00000{number}"
        return OutgoingMessage(f"n-{number}", "demo", self.channel, self.recipient, subject, body)

    def test_a_message_reaches_its_recipient_word_for_word(
        self, notifier: Notifier, delivered: Callable[[], list[tuple[str, str]]]
    ) -> None:
        body = (
            "Ville de Val-Fleuri : votre demande n° 2026-000001 a bien été enregistrée. "
            "Code de suivi : 7K2M-QX4P-9T. Réponse prévue le vendredi 22 mai 2026."
        )
        notifier.send(self.message(body))
        assert [(to, " ".join(text.split())) for to, text in delivered()] == [
            (self.recipient, body)
        ]

    def test_messages_arrive_in_the_order_they_were_sent(
        self, notifier: Notifier, delivered: Callable[[], list[tuple[str, str]]]
    ) -> None:
        notifier.send(self.message("Votre demande a bien été enregistrée.", 1))
        notifier.send(self.message("Votre demande est prise en charge.", 2))
        bodies = [" ".join(text.split()) for _, text in delivered()]
        assert bodies == [
            "Votre demande a bien été enregistrée.",
            "Votre demande est prise en charge.",
        ]

    def test_an_unreachable_backend_is_a_temporary_notification_error(
        self, unreachable: Notifier
    ) -> None:
        with pytest.raises(NotificationError) as raised:
            unreachable.send(self.message("Votre demande a bien été enregistrée."))
        assert raised.value.permanent is False  # the dispatcher will try again later


class ManualClock:
    """A clock that moves only when told to (seconds), for rate limiters under test."""

    def __init__(self, start: float = 1_800_000_020.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RateLimiterContract:
    """What every :class:`~contact_center.ratelimit.RateLimiter` must do.

    The clock starts 20 s into a minute; keys are fresh for each test, so a limiter that keeps
    its counts in a shared store (Redis) can be tested again at once.
    """

    @pytest.fixture
    def make_limiter(self) -> LimiterFactory:
        """Builds the limiter under test for ``per_minute`` messages and a clock."""
        raise NotImplementedError

    @pytest.fixture
    def clock(self) -> ManualClock:
        return ManualClock()

    @staticmethod
    def key() -> str:
        return f"contract-{uuid.uuid4().hex}"

    def test_a_client_may_send_up_to_the_limit_then_is_told_to_wait(
        self, make_limiter: LimiterFactory, clock: ManualClock
    ) -> None:
        limiter, client = make_limiter(3, clock), self.key()
        assert [limiter.hit(client) for _ in range(3)] == [0, 0, 0]
        wait = limiter.hit(client)
        assert 1 <= wait <= 60

    def test_clients_are_counted_apart(
        self, make_limiter: LimiterFactory, clock: ManualClock
    ) -> None:
        limiter, first, second = make_limiter(2, clock), self.key(), self.key()
        assert [limiter.hit(first) for _ in range(3)][-1] > 0
        assert limiter.hit(second) == 0

    def test_after_the_announced_wait_the_client_may_send_again(
        self, make_limiter: LimiterFactory, clock: ManualClock
    ) -> None:
        limiter, client = make_limiter(3, clock), self.key()
        for _ in range(3):
            limiter.hit(client)
        wait = limiter.hit(client)
        clock.advance(wait)
        assert limiter.hit(client) == 0

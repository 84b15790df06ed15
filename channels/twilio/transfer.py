"""Hands a live call to a person: Twilio's REST API replaces the call's TwiML with a <Dial>.

``POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`` with ``Twiml`` ends the media
stream and dials the service's number. The client reaches Twilio through ``base_url`` (a local
stand-in in tests: :class:`contact_center.testing.twilio_standin.TwilioStandIn`). The fake
(:class:`channels.testing.fakes.FakeCallControl`) and the contract every call control passes
(:class:`channels.testing.contracts.CallControlContract`) ship in :mod:`channels.testing`.
"""

from __future__ import annotations

import logging
import re
from typing import Protocol

from foundation.errors import ConfigurationError

log = logging.getLogger(__name__)


class CallControl(Protocol):
    """Changes what a live call does."""

    def transfer(self, call_sid: str, number: str, *, announcement: str = "") -> None:
        """Dial ``number`` (E.164) for the call, after ``announcement`` if any."""


def e164(number: str, country_code: str = "33") -> str | None:
    """A French number as E.164 (``01 99 00 10 01`` -> ``+33199001001``), or None."""
    digits = re.sub(r"[^\d+]", "", number)
    if digits.startswith("+"):
        return digits if re.fullmatch(r"\+[1-9]\d{7,14}", digits) else None
    if digits.startswith("00"):
        return "+" + digits[2:]
    if re.fullmatch(r"0[1-9]\d{8}", digits):
        return f"+{country_code}{digits[1:]}"
    return None


def dial_twiml(number: str, announcement: str = "", *, caller_id: str | None = None) -> str:
    """TwiML that says ``announcement`` in French, then dials ``number``."""
    from twilio.twiml.voice_response import Dial, VoiceResponse

    response = VoiceResponse()
    if announcement:
        response.say(announcement, language="fr-FR")
    dial = Dial(caller_id=caller_id) if caller_id else Dial()
    dial.number(number)
    response.append(dial)
    return str(response)


class TwilioCallControl:
    """:class:`CallControl` through the official ``twilio`` client."""

    def __init__(
        self, account_sid: str, auth_token: str, *, base_url: str, timeout_s: float = 10.0
    ) -> None:
        if not account_sid or not auth_token:
            raise ConfigurationError(
                "call transfers need CC_TWILIO_VOICE__ACCOUNT_SID and AUTH_TOKEN"
            )
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self._client = Client(
            account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout_s)
        )
        self._client.api.base_url = base_url.rstrip("/")

    def transfer(self, call_sid: str, number: str, *, announcement: str = "") -> None:
        self._client.calls(call_sid).update(twiml=dial_twiml(number, announcement))

"""Answering contact confirmation requests the way a resident does: with the link's token.

The token exists only in the text of a request still waiting in the outbox (sent requests are
masked), so these helpers read it there, before dispatching.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from contact_center.db import Database
from contact_center.gru.contact_confirmation import ContactConfirmations
from contact_center.gru.schema import Notification

TOKEN = re.compile(r"/contact/confirmer/([A-Za-z0-9_-]+)")


def confirmation_tokens(database: Database, recipient: str | None = None) -> list[str]:
    """The tokens of the confirmation requests waiting in the outbox (to ``recipient``)."""
    query = select(Notification).where(Notification.kind == "contact_confirmation")
    if recipient is not None:
        query = query.where(Notification.recipient == recipient)
    with database.session() as session:
        bodies = [row.body for row in session.scalars(query)]
    return [match.group(1) for body in bodies for match in TOKEN.finditer(body)]


def confirm_contacts(database: Database, clock: Callable[[], datetime]) -> None:
    """Confirm every contact whose request waits in the outbox."""
    confirmations = ContactConfirmations(database, clock=clock)
    for token in confirmation_tokens(database):
        assert confirmations.confirm(token).outcome == "confirmed"

"""When a service's agents can answer live, from weekly hours and French public holidays.

Hours are data in the service catalogue (``extra.agent_hours``), one list of ``"HH:MM-HH:MM"``
ranges per weekday (``mon`` ... ``sun``), in the commune's time (Europe/Paris). A service
without them uses :data:`DEFAULT_AGENT_HOURS`, the demo town hall's hours. Public holidays
are closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time

from contact_center.gru.working_days import PARIS, public_holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Monday to Friday 8:30-12:00 and 13:30-17:30, Saturday 9:00-12:00.
DEFAULT_AGENT_HOURS: dict[str, list[str]] = {
    **{day: ["08:30-12:00", "13:30-17:30"] for day in WEEKDAYS[:5]},
    "sat": ["09:00-12:00"],
}


def _parse(span: str) -> tuple[time, time]:
    start, end = span.split("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def is_open(hours: Mapping[str, Sequence[str]] | None, moment: datetime) -> bool:
    """True when ``moment`` (aware) falls in the weekly ``hours`` and is not a holiday."""
    local = moment.astimezone(PARIS)
    if local.date() in public_holidays(local.year):
        return False
    spans = (hours or DEFAULT_AGENT_HOURS).get(WEEKDAYS[local.weekday()], [])
    now = local.time()
    return any(start <= now < end for start, end in map(_parse, spans))

"""Working days in metropolitan France: public holidays and response deadlines.

The eleven public holidays of metropolitan France (Code du travail, art. L3133-1) are computed,
Easter with the anonymous Gregorian algorithm (Meeus/Jones/Butcher). Alsace-Moselle's two extra
days (Good Friday, 26 December) and the overseas departments' abolition days are not included.

A working day (jour ouvré) is a weekday that is not a public holiday. Dates are calendar dates
in Paris: :func:`paris_date` turns a stored UTC timestamp into the date a resident sees.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def easter_sunday(year: int) -> date:
    """Easter Sunday of a Gregorian year (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=64)
def public_holidays(year: int) -> dict[date, str]:
    """The public holidays of metropolitan France in ``year``, with their French names."""
    easter = easter_sunday(year)
    return {
        date(year, 1, 1): "Jour de l'an",
        easter + timedelta(days=1): "Lundi de Pâques",
        date(year, 5, 1): "Fête du Travail",
        date(year, 5, 8): "Victoire 1945",
        easter + timedelta(days=39): "Ascension",
        easter + timedelta(days=50): "Lundi de Pentecôte",
        date(year, 7, 14): "Fête nationale",
        date(year, 8, 15): "Assomption",
        date(year, 11, 1): "Toussaint",
        date(year, 11, 11): "Armistice 1918",
        date(year, 12, 25): "Noël",
    }


def is_working_day(day: date) -> bool:
    """True from Monday to Friday, public holidays excepted."""
    return day.weekday() < 5 and day not in public_holidays(day.year)


def add_working_days(start: date, n: int) -> date:
    """The date ``n`` working days after ``start`` (``start`` itself is not counted).

    A request filed on Friday with one working day to answer is due on Monday (Tuesday when
    that Monday is a holiday); filed on a Saturday, it is also due on Monday. ``n = 0`` gives
    ``start`` itself.

    Raises:
        ValueError: ``n`` is negative.
    """
    if n < 0:
        raise ValueError("n must be zero or more working days")
    day = start
    remaining = n
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def paris_date(moment: datetime) -> date:
    """The calendar date in Paris of an aware timestamp."""
    return moment.astimezone(PARIS).date()

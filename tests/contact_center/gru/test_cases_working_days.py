"""French public holidays and working-day deadlines, checked against a calendar by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from contact_center.gru.working_days import (
    add_working_days,
    easter_sunday,
    is_working_day,
    paris_date,
    public_holidays,
)


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2000, date(2000, 4, 23)),
        (2019, date(2019, 4, 21)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter_sunday(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_the_eleven_public_holidays_of_2026() -> None:
    holidays = public_holidays(2026)
    assert len(holidays) == 11
    assert holidays[date(2026, 4, 6)] == "Lundi de Pâques"
    assert holidays[date(2026, 5, 14)] == "Ascension"
    assert holidays[date(2026, 5, 25)] == "Lundi de Pentecôte"
    assert {date(2026, 1, 1), date(2026, 5, 1), date(2026, 5, 8), date(2026, 7, 14)} < set(holidays)
    assert {date(2026, 8, 15), date(2026, 11, 1), date(2026, 11, 11), date(2026, 12, 25)} < set(
        holidays
    )
    # Not holidays in metropolitan France (Good Friday, Boxing Day are Alsace-Moselle only).
    assert date(2026, 4, 3) not in holidays and date(2026, 12, 26) not in holidays


def test_moving_holidays_of_2027() -> None:
    holidays = public_holidays(2027)
    assert holidays[date(2027, 3, 29)] == "Lundi de Pâques"
    assert holidays[date(2027, 5, 6)] == "Ascension"
    assert holidays[date(2027, 5, 17)] == "Lundi de Pentecôte"


def test_working_days_exclude_weekends_and_holidays() -> None:
    assert is_working_day(date(2026, 5, 13))  # Wednesday
    assert not is_working_day(date(2026, 5, 14))  # Ascension Thursday
    assert not is_working_day(date(2026, 5, 16))  # Saturday
    assert not is_working_day(date(2026, 7, 14))  # Tuesday, national day


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2026, 5, 15), 1, date(2026, 5, 18)),  # Friday -> Monday
        (date(2026, 5, 16), 1, date(2026, 5, 18)),  # Saturday -> Monday
        (date(2026, 5, 13), 1, date(2026, 5, 15)),  # Wednesday, Ascension skipped -> Friday
        (date(2026, 5, 8), 5, date(2026, 5, 18)),  # from a holiday, over Ascension
        (date(2027, 3, 26), 1, date(2027, 3, 30)),  # Friday before Easter 2027 -> Tuesday
        (date(2026, 12, 24), 2, date(2026, 12, 29)),  # Christmas Friday and a weekend
        (date(2026, 12, 31), 1, date(2027, 1, 4)),  # New Year's Day Friday, next year
        (date(2026, 5, 15), 0, date(2026, 5, 15)),
    ],
)
def test_add_working_days(start: date, days: int, due: date) -> None:
    assert add_working_days(start, days) == due


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="zero or more"):
        add_working_days(date(2026, 5, 15), -1)


def test_dates_are_taken_in_paris() -> None:
    # Friday 22:30 UTC in May is already Saturday 00:30 in Paris.
    assert paris_date(datetime(2026, 5, 15, 22, 30, tzinfo=UTC)) == date(2026, 5, 16)
    # In winter Paris is UTC+1: 31 December 23:30 UTC is New Year's Day.
    assert paris_date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == date(2027, 1, 1)
    assert paris_date(datetime(2026, 12, 31, 22, 30, tzinfo=UTC)) == date(2026, 12, 31)

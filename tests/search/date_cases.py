"""What the date-parser tests share: a fixed now, zones, and ranges as local dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from diarist.search.dates import parse_query

UTC_ZONE = ZoneInfo("UTC")
AUCKLAND = ZoneInfo("Pacific/Auckland")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
# A Wednesday in UTC, already Thursday 26 November in Auckland.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def days_of(query: str, now: datetime = NOW, zone: ZoneInfo = UTC_ZONE) -> tuple[date, date]:
    """The range as local dates, after checking that both ends are local midnights."""
    dates = parse_query(query, now, zone).dates
    assert dates is not None, f"no date found in {query!r}"
    start, end = dates.start.astimezone(zone), dates.end.astimezone(zone)
    assert start.time() == time(), "ranges are whole local days"
    assert end.time() == time(), "ranges are whole local days"
    return start.date(), end.date()


def starts_a_local_day(instant: datetime, zone: ZoneInfo) -> bool:
    """Midnight, or the first instant of a day whose midnight a DST change skipped."""
    before = (instant - timedelta(microseconds=1)).astimezone(zone).date()
    return before < instant.astimezone(zone).date()


def one_day(day: date) -> tuple[date, date]:
    return day, day + timedelta(days=1)


def one_month(year: int, month: int) -> tuple[date, date]:
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return date(year, month, 1), end


def one_year(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year + 1, 1, 1)

"""Date expressions in search queries become a range of local days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from diarist.search.dates import parse_query
from diarist.search.service import undated_words
from tests.search.date_cases import (
    AUCKLAND,
    LOS_ANGELES,
    NOW,
    UTC_ZONE,
    days_of,
    one_day,
    one_month,
    one_year,
    starts_a_local_day,
)

# Today is Wednesday 25 November 2026 (UTC).
UTC_CASES = [
    ("today", one_day(date(2026, 11, 25))),
    ("tonight", one_day(date(2026, 11, 25))),
    ("yesterday", one_day(date(2026, 11, 24))),
    ("last night", one_day(date(2026, 11, 24))),
    ("the day before yesterday", one_day(date(2026, 11, 23))),
    ("day before yesterday", one_day(date(2026, 11, 23))),
    ("3 days ago", one_day(date(2026, 11, 22))),
    ("three days ago", one_day(date(2026, 11, 22))),
    ("a day ago", one_day(date(2026, 11, 24))),
    ("2 weeks ago", (date(2026, 11, 9), date(2026, 11, 16))),
    ("a week ago", (date(2026, 11, 16), date(2026, 11, 23))),
    ("two months ago", one_month(2026, 9)),
    ("twelve months ago", one_month(2025, 11)),
    ("1 year ago", one_year(2025)),
    ("this week", (date(2026, 11, 23), date(2026, 11, 30))),
    ("last week", (date(2026, 11, 16), date(2026, 11, 23))),
    ("previous week", (date(2026, 11, 16), date(2026, 11, 23))),
    ("past week", (date(2026, 11, 19), date(2026, 11, 26))),
    ("this month", one_month(2026, 11)),
    ("last month", one_month(2026, 10)),
    ("past month", (date(2026, 10, 26), date(2026, 11, 26))),
    ("this year", one_year(2026)),
    ("last year", one_year(2025)),
    ("past year", (date(2025, 11, 26), date(2026, 11, 26))),
    ("this weekend", (date(2026, 11, 28), date(2026, 11, 30))),
    ("last weekend", (date(2026, 11, 21), date(2026, 11, 23))),
    ("over the weekend", (date(2026, 11, 21), date(2026, 11, 23))),
    ("past 3 days", (date(2026, 11, 23), date(2026, 11, 26))),
    ("last 10 days", (date(2026, 11, 16), date(2026, 11, 26))),
    ("in the last seven days", (date(2026, 11, 19), date(2026, 11, 26))),
    ("past 2 weeks", (date(2026, 11, 12), date(2026, 11, 26))),
    ("past 3 months", (date(2026, 8, 26), date(2026, 11, 26))),
    ("last 2 years", (date(2024, 11, 26), date(2026, 11, 26))),
    ("in march", one_month(2026, 3)),
    ("last March", one_month(2026, 3)),
    ("this march", one_month(2026, 3)),
    ("November", one_month(2026, 11)),
    ("last november", one_month(2025, 11)),
    ("December", one_month(2025, 12)),
    ("this December", one_month(2026, 12)),
    ("in March 2024", one_month(2024, 3)),
    ("March 2024", one_month(2024, 3)),
    ("march of 2024", one_month(2024, 3)),
    ("Mar 2024", one_month(2024, 3)),
    ("in mar", one_month(2026, 3)),
    ("sept", one_month(2026, 9)),
    ("in may", one_month(2026, 5)),
    ("may 2024", one_month(2024, 5)),
    ("January", one_month(2026, 1)),
    ("March 15", one_day(date(2026, 3, 15))),
    ("march 15th, 2024", one_day(date(2024, 3, 15))),
    ("the 15th of March 2024", one_day(date(2024, 3, 15))),
    ("jan 5", one_day(date(2026, 1, 5))),
    ("Feb 29", one_day(date(2024, 2, 29))),
    ("spring", (date(2026, 3, 1), date(2026, 6, 1))),
    ("last spring", (date(2026, 3, 1), date(2026, 6, 1))),
    ("this spring", (date(2026, 3, 1), date(2026, 6, 1))),
    ("summer", (date(2026, 6, 1), date(2026, 9, 1))),
    ("autumn", (date(2026, 9, 1), date(2026, 12, 1))),
    ("last autumn", (date(2025, 9, 1), date(2025, 12, 1))),
    ("last fall", (date(2025, 9, 1), date(2025, 12, 1))),
    ("in the fall", (date(2026, 9, 1), date(2026, 12, 1))),
    ("winter", (date(2025, 12, 1), date(2026, 3, 1))),
    ("last winter", (date(2025, 12, 1), date(2026, 3, 1))),
    ("this winter", (date(2026, 12, 1), date(2027, 3, 1))),
    ("spring 2024", (date(2024, 3, 1), date(2024, 6, 1))),
    ("summer of 2023", (date(2023, 6, 1), date(2023, 9, 1))),
    ("fall 2023", (date(2023, 9, 1), date(2023, 12, 1))),
    ("winter 2024", (date(2024, 12, 1), date(2025, 3, 1))),
    ("2024", one_year(2024)),
    ("in 2024", one_year(2024)),
    ("1900", one_year(1900)),
    ("2100", one_year(2100)),
    ("christmas", one_day(date(2025, 12, 25))),
    ("last Christmas", one_day(date(2025, 12, 25))),
    ("this christmas", one_day(date(2026, 12, 25))),
    ("Christmas 2022", one_day(date(2022, 12, 25))),
    ("xmas", one_day(date(2025, 12, 25))),
    ("christmas eve", one_day(date(2025, 12, 24))),
    ("Christmas Eve 2022", one_day(date(2022, 12, 24))),
    ("new year's eve", one_day(date(2025, 12, 31))),
    ("New Years Eve 2022", one_day(date(2022, 12, 31))),
    ("new year's day", one_day(date(2026, 1, 1))),
    ("new year", one_day(date(2026, 1, 1))),
    ("New Year 2023", one_day(date(2023, 1, 1))),
    ("valentine's day", one_day(date(2026, 2, 14))),
    ("valentine\u2019s day", one_day(date(2026, 2, 14))),
    ("halloween", one_day(date(2026, 10, 31))),
    ("last halloween", one_day(date(2026, 10, 31))),
    ("2024-03-15", one_day(date(2024, 3, 15))),
    ("on 2024-03-15", one_day(date(2024, 3, 15))),
    ("2024-03", one_month(2024, 3)),
    ("monday", one_day(date(2026, 11, 23))),
    ("on monday", one_day(date(2026, 11, 23))),
    ("last monday", one_day(date(2026, 11, 23))),
    ("wednesday", one_day(date(2026, 11, 25))),
    ("last wednesday", one_day(date(2026, 11, 18))),
    ("this friday", one_day(date(2026, 11, 27))),
    ("since march", (date(2026, 3, 1), date(2026, 11, 26))),
    ("since may", (date(2026, 5, 1), date(2026, 11, 26))),
    ("since last week", (date(2026, 11, 16), date(2026, 11, 26))),
    ("since 2024", (date(2024, 1, 1), date(2026, 11, 26))),
]


@pytest.mark.parametrize(("query", "expected"), UTC_CASES)
def test_expression_alone_in_utc(query: str, expected: tuple[date, date]) -> None:
    assert days_of(query) == expected
    parsed = parse_query(query, NOW, UTC_ZONE)
    assert parsed.text == ""
    assert parsed.dates is not None
    assert parsed.dates.phrase == query


# In Auckland it is already Thursday 26 November, 04:00.
AUCKLAND_CASES = [
    ("today", one_day(date(2026, 11, 26))),
    ("yesterday", one_day(date(2026, 11, 25))),
    ("3 days ago", one_day(date(2026, 11, 23))),
    ("thursday", one_day(date(2026, 11, 26))),
    ("last thursday", one_day(date(2026, 11, 19))),
    ("this week", (date(2026, 11, 23), date(2026, 11, 30))),
    ("past 7 days", (date(2026, 11, 20), date(2026, 11, 27))),
    ("last month", one_month(2026, 10)),
    ("in March", one_month(2026, 3)),
    ("last christmas", one_day(date(2025, 12, 25))),
    ("2024", one_year(2024)),
]


@pytest.mark.parametrize(("query", "expected"), AUCKLAND_CASES)
def test_expression_in_a_zone_ahead_of_utc(query: str, expected: tuple[date, date]) -> None:
    assert days_of(query, zone=AUCKLAND) == expected


def test_boundaries_are_local_midnights_given_in_utc() -> None:
    dates = parse_query("today", NOW, AUCKLAND).dates
    assert dates is not None
    # NZDT is 13 hours ahead of UTC.
    assert dates.start == datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
    assert dates.end == datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
    dates = parse_query("today", NOW, LOS_ANGELES).dates
    assert dates is not None
    assert dates.start == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "zone", "hours"),
    [
        # Los Angeles springs forward on 8 March 2026 and falls back on 1 November 2026.
        (datetime(2026, 3, 9, 20, 0, tzinfo=UTC), LOS_ANGELES, 23),
        (datetime(2026, 11, 2, 20, 0, tzinfo=UTC), LOS_ANGELES, 25),
        # Auckland falls back on 5 April 2026 and springs forward on 27 September 2026.
        (datetime(2026, 4, 5, 23, 0, tzinfo=UTC), AUCKLAND, 25),
        (datetime(2026, 9, 27, 23, 0, tzinfo=UTC), AUCKLAND, 23),
    ],
)
def test_a_day_of_a_dst_change_lasts_23_or_25_hours(
    now: datetime, zone: ZoneInfo, hours: int
) -> None:
    dates = parse_query("yesterday", now, zone).dates
    assert dates is not None
    assert dates.end - dates.start == timedelta(hours=hours)
    assert dates.start.astimezone(zone).time() == time()
    assert dates.end.astimezone(zone).time() == time()


def test_a_day_whose_midnight_is_skipped_starts_at_its_first_instant() -> None:
    # Santiago's clocks go from 24:00 on 5 September 2026 straight to 01:00 on the 6th.
    santiago = ZoneInfo("America/Santiago")
    dates = parse_query("today", datetime(2026, 9, 6, 15, 0, tzinfo=UTC), santiago).dates
    assert dates is not None
    assert dates.start == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert dates.start.astimezone(santiago).hour == 1
    assert dates.end - dates.start == timedelta(hours=23)


def test_a_week_across_a_dst_change_is_one_hour_short() -> None:
    dates = parse_query("last week", datetime(2026, 3, 12, 20, 0, tzinfo=UTC), LOS_ANGELES).dates
    assert dates is not None
    assert dates.start.astimezone(LOS_ANGELES).date() == date(2026, 3, 2)
    assert dates.end - dates.start == timedelta(days=7, hours=-1)


# Saturday 2 January 2027.
NEW_YEAR = datetime(2027, 1, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("last week", (date(2026, 12, 21), date(2026, 12, 28))),
        ("this week", (date(2026, 12, 28), date(2027, 1, 4))),
        ("yesterday", one_day(date(2027, 1, 1))),
        ("last month", one_month(2026, 12)),
        ("last year", one_year(2026)),
        ("December", one_month(2026, 12)),
        ("last December", one_month(2026, 12)),
        ("January", one_month(2027, 1)),
        ("last january", one_month(2026, 1)),
        ("winter", (date(2026, 12, 1), date(2027, 3, 1))),
        ("this winter", (date(2026, 12, 1), date(2027, 3, 1))),
        ("last winter", (date(2025, 12, 1), date(2026, 3, 1))),
        ("christmas", one_day(date(2026, 12, 25))),
        ("new year", one_day(date(2027, 1, 1))),
        ("last new year's eve", one_day(date(2026, 12, 31))),
        ("past 7 days", (date(2026, 12, 27), date(2027, 1, 3))),
        ("2 weeks ago", (date(2026, 12, 14), date(2026, 12, 21))),
        ("3 months ago", one_month(2026, 10)),
        ("this weekend", (date(2027, 1, 2), date(2027, 1, 4))),
        ("over the weekend", (date(2027, 1, 2), date(2027, 1, 4))),
        ("last weekend", (date(2026, 12, 26), date(2026, 12, 28))),
    ],
)
def test_across_the_year_boundary(query: str, expected: tuple[date, date]) -> None:
    assert days_of(query, NEW_YEAR) == expected


def test_the_year_is_the_users_not_utcs() -> None:
    # 12:00 UTC on 31 December 2026 is 01:00 on 1 January 2027 in Auckland.
    now = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
    assert days_of("this year", now, AUCKLAND) == one_year(2027)
    assert days_of("this year", now, UTC_ZONE) == one_year(2026)
    assert days_of("last december", now, AUCKLAND) == one_month(2026, 12)
    assert days_of("last december", now, UTC_ZONE) == one_month(2025, 12)


def test_on_christmas_day_last_christmas_is_a_year_ago() -> None:
    now = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)
    assert days_of("christmas", now) == one_day(date(2026, 12, 25))
    assert days_of("last christmas", now) == one_day(date(2025, 12, 25))


# Tuesday 29 February 2028.
LEAP_DAY = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "now", "expected"),
    [
        ("today", LEAP_DAY, one_day(date(2028, 2, 29))),
        ("feb 29", LEAP_DAY, one_day(date(2028, 2, 29))),
        ("last feb 29", LEAP_DAY, one_day(date(2024, 2, 29))),
        ("February 29 2024", LEAP_DAY, one_day(date(2024, 2, 29))),
        ("february", LEAP_DAY, (date(2028, 2, 1), date(2028, 3, 1))),
        ("february", datetime(2026, 3, 1, tzinfo=UTC), (date(2026, 2, 1), date(2026, 3, 1))),
        ("winter 2027", LEAP_DAY, (date(2027, 12, 1), date(2028, 3, 1))),
        # A year before a 29 February has no 29 February: the range starts on 1 March.
        ("past year", LEAP_DAY, (date(2027, 3, 1), date(2028, 3, 1))),
        ("1 month ago", datetime(2028, 3, 31, tzinfo=UTC), one_month(2028, 2)),
        ("past month", datetime(2028, 3, 31, tzinfo=UTC), (date(2028, 3, 1), date(2028, 4, 1))),
        ("2024-02-29", LEAP_DAY, one_day(date(2024, 2, 29))),
    ],
)
def test_leap_years(query: str, now: datetime, expected: tuple[date, date]) -> None:
    assert days_of(query, now) == expected


PROPERTY_QUERIES = [query for query, _ in UTC_CASES] + [
    "last feb 29",
    "feb 29",
    "this feb 29",
    "since this weekend",
    "since this winter",
    "this monday",
    "sunday",
    "last sunday",
    "past 12 months",
    "9 years ago",
]


@pytest.mark.parametrize("zone", [UTC_ZONE, AUCKLAND, LOS_ANGELES, ZoneInfo("America/Santiago")])
def test_every_range_is_non_empty_whole_days(zone: ZoneInfo) -> None:
    # Every 97 hours for over two years: all weekdays, hours, month ends and DST changes.
    now = datetime(2026, 1, 1, tzinfo=UTC)
    while now < datetime(2028, 4, 1, tzinfo=UTC):
        for query in PROPERTY_QUERIES:
            parsed = parse_query(query, now, zone)
            if parsed.dates is None:
                continue
            assert parsed.dates.start < parsed.dates.end, (query, now)
            assert starts_a_local_day(parsed.dates.start, zone), (query, now)
            assert starts_a_local_day(parsed.dates.end, zone), (query, now)
            assert parsed.dates.phrase in query
        now += timedelta(hours=97)


BOUNDARY_QUERIES = ["126 years ago", "127 years ago", "74 years ago", "75 years ago"]


@pytest.mark.parametrize(
    "now",
    [NOW, NEW_YEAR, LEAP_DAY, datetime(2026, 12, 31, 13, tzinfo=UTC), datetime(2027, 1, 1, 9)],
)
def test_a_query_found_undated_names_no_dates_in_any_zone(now: datetime) -> None:
    """A keyword search without date words is read before the user's zone is known (in one
    round trip with its token check): no zone may find dates in what it searches."""
    zones = [ZoneInfo(name) for name in ("Etc/GMT+12", "Pacific/Kiritimati", "UTC", "Asia/Tokyo")]
    for query in [*PROPERTY_QUERIES, *BOUNDARY_QUERIES, "river walk", "I may go", "Feb 30"]:
        words = undated_words(query, now, parse_dates=True)
        for zone in zones:
            local_now = now if now.tzinfo else now.replace(tzinfo=zone)
            parsed = parse_query(query, local_now, zone)
            if words is not None:
                assert parsed.dates is None, (query, zone)
                assert parsed.text == words
    assert undated_words("  river   walk ", now, parse_dates=True) == "river walk"
    assert undated_words("  river   walk ", now, parse_dates=False) == "river   walk"

"""Date expressions in search queries become a range of local days; the other words stay."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from diarist.search.dates import ParsedQuery, parse_query

UTC_ZONE = ZoneInfo("UTC")
AUCKLAND = ZoneInfo("Pacific/Auckland")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
# A Wednesday in UTC, already Thursday 26 November in Auckland.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def _days(query: str, now: datetime = NOW, zone: ZoneInfo = UTC_ZONE) -> tuple[date, date]:
    """The range as local dates, after checking that both ends are local midnights."""
    dates = parse_query(query, now, zone).dates
    assert dates is not None, f"no date found in {query!r}"
    start, end = dates.start.astimezone(zone), dates.end.astimezone(zone)
    assert start.time() == time(), "ranges are whole local days"
    assert end.time() == time(), "ranges are whole local days"
    return start.date(), end.date()


def _starts_a_local_day(instant: datetime, zone: ZoneInfo) -> bool:
    """Midnight, or the first instant of a day whose midnight a DST change skipped."""
    before = (instant - timedelta(microseconds=1)).astimezone(zone).date()
    return before < instant.astimezone(zone).date()


def _day(day: date) -> tuple[date, date]:
    return day, day + timedelta(days=1)


def _month(year: int, month: int) -> tuple[date, date]:
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return date(year, month, 1), end


def _year(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year + 1, 1, 1)


# Today is Wednesday 25 November 2026 (UTC).
UTC_CASES = [
    ("today", _day(date(2026, 11, 25))),
    ("tonight", _day(date(2026, 11, 25))),
    ("yesterday", _day(date(2026, 11, 24))),
    ("last night", _day(date(2026, 11, 24))),
    ("the day before yesterday", _day(date(2026, 11, 23))),
    ("day before yesterday", _day(date(2026, 11, 23))),
    ("3 days ago", _day(date(2026, 11, 22))),
    ("three days ago", _day(date(2026, 11, 22))),
    ("a day ago", _day(date(2026, 11, 24))),
    ("2 weeks ago", (date(2026, 11, 9), date(2026, 11, 16))),
    ("a week ago", (date(2026, 11, 16), date(2026, 11, 23))),
    ("two months ago", _month(2026, 9)),
    ("twelve months ago", _month(2025, 11)),
    ("1 year ago", _year(2025)),
    ("this week", (date(2026, 11, 23), date(2026, 11, 30))),
    ("last week", (date(2026, 11, 16), date(2026, 11, 23))),
    ("previous week", (date(2026, 11, 16), date(2026, 11, 23))),
    ("past week", (date(2026, 11, 19), date(2026, 11, 26))),
    ("this month", _month(2026, 11)),
    ("last month", _month(2026, 10)),
    ("past month", (date(2026, 10, 26), date(2026, 11, 26))),
    ("this year", _year(2026)),
    ("last year", _year(2025)),
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
    ("in march", _month(2026, 3)),
    ("last March", _month(2026, 3)),
    ("this march", _month(2026, 3)),
    ("November", _month(2026, 11)),
    ("last november", _month(2025, 11)),
    ("December", _month(2025, 12)),
    ("this December", _month(2026, 12)),
    ("in March 2024", _month(2024, 3)),
    ("March 2024", _month(2024, 3)),
    ("march of 2024", _month(2024, 3)),
    ("Mar 2024", _month(2024, 3)),
    ("in mar", _month(2026, 3)),
    ("sept", _month(2026, 9)),
    ("in may", _month(2026, 5)),
    ("may 2024", _month(2024, 5)),
    ("January", _month(2026, 1)),
    ("March 15", _day(date(2026, 3, 15))),
    ("march 15th, 2024", _day(date(2024, 3, 15))),
    ("the 15th of March 2024", _day(date(2024, 3, 15))),
    ("jan 5", _day(date(2026, 1, 5))),
    ("Feb 29", _day(date(2024, 2, 29))),
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
    ("2024", _year(2024)),
    ("in 2024", _year(2024)),
    ("1900", _year(1900)),
    ("2100", _year(2100)),
    ("christmas", _day(date(2025, 12, 25))),
    ("last Christmas", _day(date(2025, 12, 25))),
    ("this christmas", _day(date(2026, 12, 25))),
    ("Christmas 2022", _day(date(2022, 12, 25))),
    ("xmas", _day(date(2025, 12, 25))),
    ("christmas eve", _day(date(2025, 12, 24))),
    ("Christmas Eve 2022", _day(date(2022, 12, 24))),
    ("new year's eve", _day(date(2025, 12, 31))),
    ("New Years Eve 2022", _day(date(2022, 12, 31))),
    ("new year's day", _day(date(2026, 1, 1))),
    ("new year", _day(date(2026, 1, 1))),
    ("New Year 2023", _day(date(2023, 1, 1))),
    ("valentine's day", _day(date(2026, 2, 14))),
    ("valentine\u2019s day", _day(date(2026, 2, 14))),
    ("halloween", _day(date(2026, 10, 31))),
    ("last halloween", _day(date(2026, 10, 31))),
    ("2024-03-15", _day(date(2024, 3, 15))),
    ("on 2024-03-15", _day(date(2024, 3, 15))),
    ("2024-03", _month(2024, 3)),
    ("monday", _day(date(2026, 11, 23))),
    ("on monday", _day(date(2026, 11, 23))),
    ("last monday", _day(date(2026, 11, 23))),
    ("wednesday", _day(date(2026, 11, 25))),
    ("last wednesday", _day(date(2026, 11, 18))),
    ("this friday", _day(date(2026, 11, 27))),
    ("since march", (date(2026, 3, 1), date(2026, 11, 26))),
    ("since may", (date(2026, 5, 1), date(2026, 11, 26))),
    ("since last week", (date(2026, 11, 16), date(2026, 11, 26))),
    ("since 2024", (date(2024, 1, 1), date(2026, 11, 26))),
]


@pytest.mark.parametrize(("query", "expected"), UTC_CASES)
def test_expression_alone_in_utc(query: str, expected: tuple[date, date]) -> None:
    assert _days(query) == expected
    parsed = parse_query(query, NOW, UTC_ZONE)
    assert parsed.text == ""
    assert parsed.dates is not None
    assert parsed.dates.phrase == query


# In Auckland it is already Thursday 26 November, 04:00.
AUCKLAND_CASES = [
    ("today", _day(date(2026, 11, 26))),
    ("yesterday", _day(date(2026, 11, 25))),
    ("3 days ago", _day(date(2026, 11, 23))),
    ("thursday", _day(date(2026, 11, 26))),
    ("last thursday", _day(date(2026, 11, 19))),
    ("this week", (date(2026, 11, 23), date(2026, 11, 30))),
    ("past 7 days", (date(2026, 11, 20), date(2026, 11, 27))),
    ("last month", _month(2026, 10)),
    ("in March", _month(2026, 3)),
    ("last christmas", _day(date(2025, 12, 25))),
    ("2024", _year(2024)),
]


@pytest.mark.parametrize(("query", "expected"), AUCKLAND_CASES)
def test_expression_in_a_zone_ahead_of_utc(query: str, expected: tuple[date, date]) -> None:
    assert _days(query, zone=AUCKLAND) == expected


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
        ("yesterday", _day(date(2027, 1, 1))),
        ("last month", _month(2026, 12)),
        ("last year", _year(2026)),
        ("December", _month(2026, 12)),
        ("last December", _month(2026, 12)),
        ("January", _month(2027, 1)),
        ("last january", _month(2026, 1)),
        ("winter", (date(2026, 12, 1), date(2027, 3, 1))),
        ("this winter", (date(2026, 12, 1), date(2027, 3, 1))),
        ("last winter", (date(2025, 12, 1), date(2026, 3, 1))),
        ("christmas", _day(date(2026, 12, 25))),
        ("new year", _day(date(2027, 1, 1))),
        ("last new year's eve", _day(date(2026, 12, 31))),
        ("past 7 days", (date(2026, 12, 27), date(2027, 1, 3))),
        ("2 weeks ago", (date(2026, 12, 14), date(2026, 12, 21))),
        ("3 months ago", _month(2026, 10)),
        ("this weekend", (date(2027, 1, 2), date(2027, 1, 4))),
        ("over the weekend", (date(2027, 1, 2), date(2027, 1, 4))),
        ("last weekend", (date(2026, 12, 26), date(2026, 12, 28))),
    ],
)
def test_across_the_year_boundary(query: str, expected: tuple[date, date]) -> None:
    assert _days(query, NEW_YEAR) == expected


def test_the_year_is_the_users_not_utcs() -> None:
    # 12:00 UTC on 31 December 2026 is 01:00 on 1 January 2027 in Auckland.
    now = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
    assert _days("this year", now, AUCKLAND) == _year(2027)
    assert _days("this year", now, UTC_ZONE) == _year(2026)
    assert _days("last december", now, AUCKLAND) == _month(2026, 12)
    assert _days("last december", now, UTC_ZONE) == _month(2025, 12)


def test_on_christmas_day_last_christmas_is_a_year_ago() -> None:
    now = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)
    assert _days("christmas", now) == _day(date(2026, 12, 25))
    assert _days("last christmas", now) == _day(date(2025, 12, 25))


# Tuesday 29 February 2028.
LEAP_DAY = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "now", "expected"),
    [
        ("today", LEAP_DAY, _day(date(2028, 2, 29))),
        ("feb 29", LEAP_DAY, _day(date(2028, 2, 29))),
        ("last feb 29", LEAP_DAY, _day(date(2024, 2, 29))),
        ("February 29 2024", LEAP_DAY, _day(date(2024, 2, 29))),
        ("february", LEAP_DAY, (date(2028, 2, 1), date(2028, 3, 1))),
        ("february", datetime(2026, 3, 1, tzinfo=UTC), (date(2026, 2, 1), date(2026, 3, 1))),
        ("winter 2027", LEAP_DAY, (date(2027, 12, 1), date(2028, 3, 1))),
        # A year before a 29 February has no 29 February: the range starts on 1 March.
        ("past year", LEAP_DAY, (date(2027, 3, 1), date(2028, 3, 1))),
        ("1 month ago", datetime(2028, 3, 31, tzinfo=UTC), _month(2028, 2)),
        ("past month", datetime(2028, 3, 31, tzinfo=UTC), (date(2028, 3, 1), date(2028, 4, 1))),
        ("2024-02-29", LEAP_DAY, _day(date(2024, 2, 29))),
    ],
)
def test_leap_years(query: str, now: datetime, expected: tuple[date, date]) -> None:
    assert _days(query, now) == expected


@pytest.mark.parametrize(
    ("query", "text", "phrase"),
    [
        ("hiking last spring", "hiking", "last spring"),
        ("dinner with anna last week", "dinner with anna", "last week"),
        ("coffee 3 days ago", "coffee", "3 days ago"),
        ("2024 birthday", "birthday", "2024"),
        ("hiking in March", "hiking", "in March"),
        ("walk on Christmas Day with mum", "walk with mum", "on Christmas Day"),
        ("  swim   yesterday   morning ", "swim morning", "yesterday"),
        ("yesterday's dinner", "dinner", "yesterday's"),
        ("last week's argument", "argument", "last week's"),
        # A comma that ends the date clause goes with it.
        ("last week,", "", "last week"),
        ("last week, dinner", "dinner", "last week"),
        ("dinner last week, with anna", "dinner with anna", "last week"),
        ("dinner, last week, anna", "dinner, anna", "last week"),
        ("dinner, last week", "dinner", "last week"),
        ("dinner, last week.", "dinner.", "last week"),
        ("was it yesterday?", "was it?", "yesterday"),
        # Case is the user's.
        ("LAST WEEK", "", "LAST WEEK"),
        ("Dinner In MARCH 2024", "Dinner", "In MARCH 2024"),
        # Only the first expression counts; the rest stays to be searched.
        ("in 2024 last spring", "last spring", "in 2024"),
        ("yesterday or today", "or today", "yesterday"),
        ("I may go in may", "I may go", "in may"),
    ],
)
def test_the_date_is_cut_from_the_text(query: str, text: str, phrase: str) -> None:
    parsed = parse_query(query, NOW, UTC_ZONE)
    assert parsed.text == text
    assert parsed.dates is not None
    assert parsed.dates.phrase == phrase


def test_only_the_first_expression_gives_the_range() -> None:
    assert _days("in 2024 last spring") == _year(2024)


@pytest.mark.parametrize(
    "query",
    [
        "I may go",
        "may the force be with you",
        "fall down the stairs",
        "the fall of rome",
        "the march on washington",
        "dinner with Jan",
        "weekend plans",
        "a week of rain",
        "1899",
        "born 1899",
        "2101 km",
        "20245",
        "1850-03-15",
        "2024-13-01",
        "Feb 30",
        "past 0 days",
        "9999 years ago",
        "-yesterday",
        '"last christmas" by wham',
        "christmassy",
        "todays",
        "",
    ],
)
def test_words_that_are_no_date_stay(query: str) -> None:
    assert parse_query(query, NOW, UTC_ZONE) == ParsedQuery(
        text=" ".join(query.split()), dates=None
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("may", _month(2026, 5)),
        ("March", _month(2026, 3)),
        ("fall", (date(2026, 9, 1), date(2026, 12, 1))),
        ("weekend", (date(2026, 11, 21), date(2026, 11, 23))),
    ],
)
def test_a_word_that_is_the_whole_query_is_a_date(query: str, expected: tuple[date, date]) -> None:
    assert _days(query) == expected


def test_a_year_out_of_range_stays_while_the_month_is_taken() -> None:
    parsed = parse_query("April 1850", NOW, UTC_ZONE)
    assert parsed.text == "1850"
    assert _days("April 1850") == _month(2026, 4)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_query("today", datetime(2026, 11, 25, 15, 0), UTC_ZONE)


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
            assert _starts_a_local_day(parsed.dates.start, zone), (query, now)
            assert _starts_a_local_day(parsed.dates.end, zone), (query, now)
            assert parsed.dates.phrase in query
        now += timedelta(hours=97)

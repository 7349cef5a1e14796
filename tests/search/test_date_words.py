"""Date words are cut from a query's text; words that are no date stay to be searched."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from diarist.search.dates import ParsedQuery, parse_query
from tests.search.date_cases import (
    NOW,
    UTC_ZONE,
    days_of,
    one_month,
    one_year,
)


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
    assert days_of("in 2024 last spring") == one_year(2024)


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
        ("may", one_month(2026, 5)),
        ("March", one_month(2026, 3)),
        ("fall", (date(2026, 9, 1), date(2026, 12, 1))),
        ("weekend", (date(2026, 11, 21), date(2026, 11, 23))),
    ],
)
def test_a_word_that_is_the_whole_query_is_a_date(query: str, expected: tuple[date, date]) -> None:
    assert days_of(query) == expected


def test_a_year_out_of_range_stays_while_the_month_is_taken() -> None:
    parsed = parse_query("April 1850", NOW, UTC_ZONE)
    assert parsed.text == "1850"
    assert days_of("April 1850") == one_month(2026, 4)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_query("today", datetime(2026, 11, 25, 15, 0), UTC_ZONE)

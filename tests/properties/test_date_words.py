"""Date words in search queries: any query parses without an exception; a range found is
non-empty and made of whole local days; a query without date words comes back as it was, but
for its whitespace."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo, available_timezones

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from diarist.search.dates import parse_query
from tests.factories.accounts import signed_up
from tests.properties import PROPERTIES

# The zones the app accepts, and the two whose dates are the earliest and latest on Earth.
ZONES = sorted(available_timezones() - {"localtime", "posixrules", "Factory"})
zones = st.sampled_from(["Etc/GMT+12", "Etc/GMT-14", *ZONES]).map(ZoneInfo)
# `now` as the API accepts it: the years 1900 to 2100, any offset.
nows = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30), timezones=st.just(UTC)
)

DATE_WORDS = [
    "today", "tonight", "yesterday", "last night", "the day before yesterday", "this morning",
    "ago", "a", "an", "one", "three", "twelve", "day", "days", "week", "weeks", "month", "months",
    "year", "years", "weekend", "this", "last", "past", "previous", "current", "since", "in",
    "on", "during", "at", "over", "around", "from", "the", "of", "may", "march", "fall",
    "sept", "jan", "Feb", "december", "spring", "summer", "autumn", "winter", "christmas",
    "xmas", "eve", "new year's", "valentine's day", "st.", "halloween", "monday", "Sunday",
    "0", "1", "7", "29", "31", "32", "99", "1899", "1900", "2024", "2025", "2100", "2101", "9999",
    "2024-02-29", "2023-02-29", "2024-13", "2024-03", "1st", "2nd", "23rd", "'s", "\u2019s",
]  # fmt: skip
OTHER_WORDS = ["walk", "river", "coffee", "with", "Ada", "felt", "tired", "-", '"', ",", ".", "?"]
NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
SPACES = st.sampled_from([" ", "  ", "\t", "\n", " , ", "\u00a0", "\u2003"])


def _query(words: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(st.tuples(words, SPACES), max_size=8).map(
        lambda pairs: "".join(word + space for word, space in pairs)
    )


queries = st.one_of(
    st.text(max_size=60),
    _query(st.one_of(st.sampled_from(DATE_WORDS + OTHER_WORDS), st.integers(0, 9999).map(str))),
    _query(st.one_of(st.sampled_from(DATE_WORDS), st.text(max_size=8))),
)


def _starts_a_local_day(instant: datetime, zone: ZoneInfo) -> bool:
    """Local midnight, or the first instant of a day whose midnight a DST change skipped."""
    local = instant.astimezone(zone)
    midnight = datetime.combine(local.date(), time(), tzinfo=zone)
    skipped = midnight.astimezone(UTC).astimezone(zone).time() != time()
    return local.time() == time() or (skipped and local == midnight.astimezone(UTC))


@settings(PROPERTIES, max_examples=1500)
@given(query=queries, now=nows, zone=zones)
# Were OverflowErrors (a 500 from any search): 1 January of year 1 began before UTC's first
# instant in a zone east of UTC.
@example(query="walks 2025 years ago", now=NOW, zone=ZoneInfo("Etc/GMT-14"))
@example(query="2099 years ago", now=datetime(2100, 6, 1, tzinfo=UTC), zone=ZoneInfo("Asia/Tokyo"))
def test_any_query_parses(query: str, now: datetime, zone: ZoneInfo) -> None:
    parsed = parse_query(query, now, zone)
    assert parsed.text == " ".join(parsed.text.split())
    if parsed.dates is None:
        assert parsed.text == " ".join(query.split())
        return
    dates = parsed.dates
    assert dates.start < dates.end, "a range found is never empty"
    assert _starts_a_local_day(dates.start, zone), f"{dates} starts inside a day"
    assert _starts_a_local_day(dates.end, zone), f"{dates} ends inside a day"
    assert dates.phrase
    assert dates.phrase in query


# Words that name no date in any way: no digit (of any script: "٢٠٢٤" is a year), no vowel
# (every date word has one), so no letter can spell a date word, whatever its case.
_UNDATED = st.text(
    alphabet=st.characters(
        exclude_categories=["Nd", "Cs"], exclude_characters="aeiouyAEIOUY\u017f\u212a"
    ).filter(lambda char: not any(v in char.lower() for v in "aeiouy")),
    min_size=1,
    max_size=12,
)


@settings(PROPERTIES, max_examples=500)
@given(query=_query(st.one_of(st.sampled_from(OTHER_WORDS), _UNDATED)), now=nows, zone=zones)
def test_a_query_without_date_words_comes_back_as_it_was(
    query: str, now: datetime, zone: ZoneInfo
) -> None:
    parsed = parse_query(query, now, zone)
    assert parsed.dates is None
    assert parsed.text == " ".join(query.split())


@pytest.mark.parametrize(
    "query", ["walks 2025 years ago", "2025 years ago", "since 2025 years ago"]
)
async def test_a_search_reaching_back_to_year_one_is_answered(
    client: httpx.AsyncClient, query: str
) -> None:
    """Was a 500 for anyone east of UTC: 1 January of year 1 began there before the first
    instant a UTC datetime holds."""
    me = await signed_up(client)
    zone = {"preferences": {"timezone": "Asia/Tokyo"}}
    assert (await client.patch("/api/v1/me", json=zone, headers=me.auth)).status_code == 200
    params = {"q": query, "now": NOW.isoformat(), "mode": "keyword"}
    response = await client.get("/api/v1/search", params=params, headers=me.auth)
    assert response.status_code == 200, response.text

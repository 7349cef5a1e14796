"""Dates in search queries: "hiking last spring" searches "hiking" within last spring.

`parse_query` finds the first date expression of a query (the leftmost; the longest one that
starts there), removes it from the text to search and returns its range of whole local days,
[start, end), both at local midnight in the user's zone and given in UTC, so `end - start` is
the real duration (23 or 25 hours for a day on which the clocks change). Only the first
expression is used; a later one stays in the text ("in 2024 last spring" searches "last spring"
within 2024). A date inside a "quoted phrase" or after a "-" (an exclusion) stays a word.

What an expression means, with today the date of `now` in the user's zone:

- today, tonight, this morning/afternoon/evening; yesterday, last night; the day before
  yesterday; N days/weeks/months/years ago (N in digits, one..twelve, a/an): that one day,
  calendar week (Monday to Sunday), calendar month or calendar year.
- this/last week, month, year: the calendar one containing today / the one before it.
  this weekend: Saturday and Sunday of the current week; last weekend: the latest one that has
  ended; "over/on/at the weekend": the latest one that has begun.
- past week/month/year, past/last N days/weeks/months/years: rolling, up to the end of today
  ("past 7 days" is today and the six days before it; "last week" stays the calendar week).
- Yearly things (a month, a month and day, a season, a holiday) all resolve one way. Bare
  ("March", "in March", "Christmas"): the latest one that has begun, so the current one counts.
  "last X": the latest one that has ended (in November, last autumn is the one of a year ago;
  on 25 December, last Christmas too). "this X": the one containing today, else the one of the
  current year, which may lie ahead. "X 2024", "X of 2024": that year's.
  Seasons are meteorological: spring Mar-May, summer Jun-Aug, autumn/fall Sep-Nov, winter
  Dec-Feb; "winter 2024" is the one that starts in December 2024. Holidays: Christmas (Day),
  Christmas Eve, New Year's Eve, New Year('s Day), Valentine's Day, Halloween.
- Weekdays: "monday", "on monday": the latest Monday on or before today; "last monday": the
  latest one before today; "this monday": Monday of the current week.
- Years 1900-2100 ("2024", "in 2024"), ISO days "2024-03-15" and ISO months "2024-03". A year
  outside that range is a word, and so is a date that does not exist ("Feb 30").
- "since X": from the start of X to the end of today.

Words that are dates only sometimes ("I may go", "fall down", "dinner with Jan"): "may",
"march", "fall", "weekend" and the three-letter month abbreviations count only with a cue:
a preposition ("in", "during", ...), "last"/"this", "since", a day or year with them ("may
2024", "jan 5"), or nothing else in the query (a search for "March"). Other month names,
"sept", seasons, weekdays and holidays count on their own, so "dinner with April" loses its
"April". A preposition and "the" right before an expression go with it, as does a comma after.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeAlias
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class DateRange:
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive
    phrase: str  # the words matched, as the user typed them


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # the query without its date expression, whitespace collapsed
    dates: DateRange | None


# Whole local days, end exclusive.
_Span: TypeAlias = tuple[date, date]


@dataclass(frozen=True)
class _Context:
    today: date
    query: str
    zone: ZoneInfo


_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_MONTHS = {
    **{name.lower(): number for number, name in enumerate(calendar.month_name) if name},
    **{name.lower(): number for number, name in enumerate(calendar.month_abbr) if name},
    "sept": 9,
}
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
# A typed apostrophe or a typographic one, as phones write it.
_APOSTROPHE = "['\u2019]"
_WEEKDAYS = [name.lower() for name in calendar.day_name]
# Pattern and (month, day); longer names first, so "christmas eve" is not read as "christmas".
_HOLIDAYS = [
    (r"christmas\s+eve", (12, 24)),
    (r"(?:christmas|xmas)(?:\s+day)?", (12, 25)),
    (rf"new\s+year{_APOSTROPHE}?s\s+eve", (12, 31)),
    (rf"new\s+year(?:{_APOSTROPHE}?s)?(?:\s+day)?", (1, 1)),
    (rf"(?:st\.?\s+)?valentine{_APOSTROPHE}?s\s+day", (2, 14)),
    (r"halloween", (10, 31)),
]
_NEEDS_CUE = {"may", "march", "fall", "weekend"} | {name for name in _MONTHS if len(name) == 3}


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_YEAR = r"(?P<year>19\d\d|20\d\d|2100)"
_DAY = r"(?P<day>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?(?!\d)"
_MONTH = rf"(?P<month>{_alternatives(_MONTHS)})"
_MOD = r"(?:(?P<mod>last|this|past|previous)\s+)?"
_NUMBER = rf"(?P<n>\d{{1,4}}|{_alternatives(_NUMBERS)})"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_SINCE = re.compile(r"(?<![\w-])since\s+$", re.IGNORECASE)
_QUOTED = re.compile(r'"[^"]*"')


def _pattern(body: str) -> re.Pattern[str]:
    """An expression as a whole word, with an optional preposition before and "'s" after."""
    prep = r"(?:(?P<prep>in|on|during|at|over|around|from)\s+)?(?:the\s+)?"
    return re.compile(rf"(?<![\w-]){prep}(?:{body})(?:{_APOSTROPHE}s)?(?![\w-])", re.IGNORECASE)


def _day(day: date) -> _Span:
    return day, day + timedelta(days=1)


def _month(year: int, month: int) -> _Span:
    return date(year, month, 1), _add_months(date(year, month, 1), 1)


def _add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the end of a shorter month."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def _week(day: date) -> _Span:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)


def _cued(match: re.Match[str], ctx: _Context) -> bool:
    found = match.groupdict()
    alone = not re.search(r"\w", ctx.query[: match.start()] + ctx.query[match.end() :])
    return (
        alone
        or any(found.get(name) for name in ("prep", "mod", "day", "year"))
        or _SINCE.search(ctx.query, 0, match.start()) is not None
    )


def _yearly(
    occurrence: Callable[[int], _Span | None], match: re.Match[str], ctx: _Context
) -> _Span | None:
    """Resolve a thing that comes once a year by the rules in the module docstring."""
    found = match.groupdict()
    if found.get("year"):
        return occurrence(int(found["year"]))
    today = ctx.today
    mod = (found.get("mod") or "").lower()
    # Back far enough for a 29 February across a non-leap century year.
    spans = [span for year in range(today.year, today.year - 9, -1) if (span := occurrence(year))]
    if mod == "this":
        current = [span for span in spans if span[0] <= today < span[1]]
        return current[0] if current else occurrence(today.year)
    if mod:  # last, past, previous
        return next((span for span in spans if span[1] <= today), None)
    return next((span for span in spans if span[0] <= today), None)


def _on_day(month: int, day: int) -> Callable[[int], _Span | None]:
    def occurrence(year: int) -> _Span | None:
        try:
            return _day(date(year, month, day))
        except ValueError:  # 29 February of a common year
            return None

    return occurrence


def _relative_day(match: re.Match[str], ctx: _Context) -> _Span | None:
    word = " ".join(match["word"].lower().split())
    back = 2 if word.startswith("day") else 1 if word in ("yesterday", "last night") else 0
    return _day(ctx.today - timedelta(days=back))


def _count(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBERS.get(text.lower(), 1)  # 1 for a/an


def _ago(match: re.Match[str], ctx: _Context) -> _Span | None:
    n, unit, today = _count(match["n"]), match["unit"].lower(), ctx.today
    if unit == "day":
        return _day(today - timedelta(days=n))
    if unit == "week":
        return _week(today - timedelta(weeks=n))
    if unit == "month":
        first = _add_months(today.replace(day=1), -n)
        return _month(first.year, first.month)
    return date(today.year - n, 1, 1), date(today.year - n + 1, 1, 1)


def _rolling(match: re.Match[str], ctx: _Context) -> _Span | None:
    return _last_n(_count(match["n"]), match["unit"].lower(), ctx.today)


def _last_n(n: int, unit: str, today: date) -> _Span | None:
    """The n units up to the end of today: "past 7 days" is today and the six days before."""
    end = today + timedelta(days=1)
    if n == 0:
        return None
    if unit in ("day", "week"):
        return end - timedelta(days=n * (7 if unit == "week" else 1)), end
    months = n * (12 if unit == "year" else 1)
    return _add_months(today, -months) + timedelta(days=1), end


def _calendar_unit(match: re.Match[str], ctx: _Context) -> _Span | None:
    mod, unit, today = (match["mod"] or "").lower(), match["unit"].lower(), ctx.today
    monday = _week(today)[0]
    if unit == "weekend":
        if not mod and not _cued(match, ctx):
            return None
        saturday = monday + timedelta(days=5)
        if mod == "this" or (not mod and today >= saturday):
            return saturday, saturday + timedelta(days=2)
        return monday - timedelta(days=2), monday
    if not mod:  # "week" alone is no date
        return None
    if mod == "past":
        return _last_n(1, unit, today)
    back = 0 if mod in ("this", "current") else 1
    if unit == "week":
        return _week(today - timedelta(weeks=back))
    if unit == "month":
        first = _add_months(today.replace(day=1), -back)
        return _month(first.year, first.month)
    return date(today.year - back, 1, 1), date(today.year - back + 1, 1, 1)


def _year(match: re.Match[str], ctx: _Context) -> _Span | None:
    year = int(match["year"])
    return date(year, 1, 1), date(year + 1, 1, 1)


def _iso(match: re.Match[str], ctx: _Context) -> _Span | None:
    year, month = int(match["year"]), int(match["month"])
    return _day(date(year, month, int(match["day"]))) if match["day"] else _month(year, month)


def _month_name(match: re.Match[str], ctx: _Context) -> _Span | None:
    if match["month"].lower() in _NEEDS_CUE and not _cued(match, ctx):
        return None
    month = _MONTHS[match["month"].lower()]
    if match["day"]:
        return _yearly(_on_day(month, int(match["day"])), match, ctx)
    return _yearly(lambda year: _month(year, month), match, ctx)


def _season(match: re.Match[str], ctx: _Context) -> _Span | None:
    if match["season"].lower() in _NEEDS_CUE and not _cued(match, ctx):
        return None
    first = _SEASONS[match["season"].lower()]
    return _yearly(
        lambda year: (date(year, first, 1), _add_months(date(year, first, 1), 3)), match, ctx
    )


def _holiday(match: re.Match[str], ctx: _Context) -> _Span | None:
    index = next(i for i in range(len(_HOLIDAYS)) if match[f"h{i}"])
    return _yearly(_on_day(*_HOLIDAYS[index][1]), match, ctx)


def _weekday(match: re.Match[str], ctx: _Context) -> _Span | None:
    weekday, today = _WEEKDAYS.index(match["weekday"].lower()), ctx.today
    mod = (match["mod"] or "").lower()
    if mod == "this":
        return _day(_week(today)[0] + timedelta(days=weekday))
    if mod:  # last, past, previous: before today
        return _day(today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1))
    return _day(today - timedelta(days=(today.weekday() - weekday) % 7))


_Rule: TypeAlias = tuple[re.Pattern[str], Callable[[re.Match[str], _Context], _Span | None]]
_RULES: list[_Rule] = [
    (
        _pattern(
            r"(?P<word>today|tonight|yesterday|day\s+before\s+yesterday"
            r"|this\s+(?:morning|afternoon|evening)|last\s+night)"
        ),
        _relative_day,
    ),
    (_pattern(rf"(?P<n>\d{{1,4}}|an?|{_alternatives(_NUMBERS)})\s+{_UNIT}\s+ago"), _ago),
    (_pattern(rf"(?P<mod>past|last)\s+{_NUMBER}\s+{_UNIT}"), _rolling),
    (
        _pattern(
            r"(?:(?P<mod>this|last|past|previous|current)\s+)?(?P<unit>week|month|year|weekend)"
        ),
        _calendar_unit,
    ),
    (_pattern(_YEAR), _year),
    (_pattern(rf"{_YEAR}-(?P<month>0[1-9]|1[0-2])(?:-(?P<day>[0-3]\d))?"), _iso),
    (_pattern(rf"{_MOD}{_MONTH}(?:\s+{_DAY})?(?:,?\s+(?:of\s+)?{_YEAR})?"), _month_name),
    (_pattern(rf"{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?"), _month_name),
    (
        _pattern(rf"{_MOD}(?P<season>{_alternatives(_SEASONS)})(?:\s+(?:of\s+)?{_YEAR})?"),
        _season,
    ),
    (
        _pattern(
            _MOD
            + "(?:"
            + "|".join(f"(?P<h{i}>{pattern})" for i, (pattern, _) in enumerate(_HOLIDAYS))
            + rf")(?:,?\s+(?:of\s+)?{_YEAR})?"
        ),
        _holiday,
    ),
    (_pattern(rf"{_MOD}(?P<weekday>{_alternatives(_WEEKDAYS)})"), _weekday),
]


def _candidates(ctx: _Context) -> list[tuple[int, int, _Span]]:
    quoted = [m.span() for m in _QUOTED.finditer(ctx.query)]
    tomorrow = ctx.today + timedelta(days=1)
    found: list[tuple[int, int, _Span]] = []
    for pattern, resolve in _RULES:
        for match in pattern.finditer(ctx.query):
            start, end = match.span()
            if any(start < q_end and q_start < end for q_start, q_end in quoted):
                continue
            try:
                span = resolve(match, ctx)
                if span is not None:  # 1 January of year 1 east of UTC began before UTC's first
                    _midnight(span[0], ctx.zone)
            except (ValueError, OverflowError):  # a day that does not exist, or years away
                continue
            if span is None:
                continue
            since = _SINCE.search(ctx.query, 0, start)
            if since and span[0] < tomorrow:
                start, span = since.start(), (span[0], tomorrow)
            found.append((start, end, span))
    return found


def _cut(query: str, start: int, end: int) -> str:
    """The query without [start, end), taking a comma that belonged to the expression."""
    before, after = query[:start].rstrip(), query[end:].lstrip()
    if after[:1] in (",", ";", ":"):
        after = after[1:].lstrip()
    elif before[-1:] in (",", ";", ":") and after[:1] in ("", ".", "!", "?"):
        before = before[:-1].rstrip()
    text = before + after if after[:1] in (".", "!", "?", ")") else f"{before} {after}"
    return " ".join(text.split()) if re.search(r"\w", text) else ""


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    # A midnight skipped by a DST change maps to the first instant of the day.
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def parse_query(query: str, now: datetime, zone: ZoneInfo) -> ParsedQuery:
    """Split a search query into the text to search and the date range it names, if any."""
    if now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    ctx = _Context(today=now.astimezone(zone).date(), query=query, zone=zone)
    found = _candidates(ctx)
    if not found:
        return ParsedQuery(text=" ".join(query.split()), dates=None)
    start, end, (first, last) = min(found, key=lambda c: (c[0], -c[1]))
    return ParsedQuery(
        text=_cut(query, start, end),
        dates=DateRange(
            start=_midnight(first, zone), end=_midnight(last, zone), phrase=query[start:end]
        ),
    )

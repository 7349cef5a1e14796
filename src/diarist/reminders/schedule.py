"""When a reminder fires: its occurrences as instants, from a wall-clock start in an IANA zone
and an optional RFC 5545 recurrence rule (python-dateutil), evaluated in local time so that a
daily 09:00 reminder stays at 09:00 across daylight-saving changes.

A wall-clock time that does not exist on a spring-forward day (02:30 in Berlin on the last
Sunday of March) fires at the same distance after the change (03:30); one that exists twice
on a fall-back day fires at the first (`fold=0`).

dateutil walks a rule from its start, so a reminder that has repeated for years would cost
more at every firing. A rule is instead walked from an *anchor*: the start of a recurrence
period shortly before the time asked about, with every part dateutil would take from the start
(the hour, the weekday, the day of the month) written out — the occurrences from there on are
the original rule's (tested against the plain walk). A rule with COUNT is walked from its start
(COUNT is capped, so that walk is short).
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import islice, pairwise

from dateutil import rrule as dateutil_rrule

from diarist.reminders.errors import InvalidRecurrence

# The presets a client may name instead of writing a rule.
PRESETS = {
    "daily": "FREQ=DAILY",
    "weekdays": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "weekly": "FREQ=WEEKLY",
    "monthly": "FREQ=MONTHLY",
}
# More often than hourly is not a reminder but a flood: no two of the first occurrences closer.
MIN_GAP = timedelta(hours=1)
_GAP_SAMPLE = 50
MAX_COUNT = 5000
MAX_INTERVAL = 1000
_FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY")
# RFC 5545 3.3.10: the parts a rule may have, and the frequencies a few of them are not used with.
_PARTS = {"FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY",
          "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST"}  # fmt: skip
_NOT_WITH = {
    "BYMONTHDAY": {"WEEKLY"},
    "BYYEARDAY": {"DAILY", "WEEKLY", "MONTHLY"},
    "BYWEEKNO": {"MONTHLY", "WEEKLY", "DAILY", "HOURLY"},
}
_DAY_PARTS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# A wall-clock time skipped by a daylight-saving change is found by searching from this much
# earlier (no zone has shifted by more).
_LOOKBACK = timedelta(hours=3)
# Steps through occurrences that map to instants not after the one asked about (a fall-back
# hour, the look-back): never more than a handful; a bound all the same.
_MAX_STEPS = 100


@dataclass(frozen=True)
class Schedule:
    """A reminder's schedule: its first occurrence as local wall-clock time, its zone, and
    its rule (None: once)."""

    starts_local: datetime  # naive
    timezone: str
    rule: str | None

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def instant(self, local: datetime) -> datetime:
        """A local wall-clock time as an instant (UTC)."""
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone).replace(tzinfo=None)

    def _rule(self, near: datetime | None = None, periods_back: int = 1) -> _Rule:
        """The rule, walked from an anchor at least `periods_back` periods before the local
        time `near` (from its start without `near`)."""
        assert self.rule is not None
        if near is None:
            return _parsed(self.rule, self.starts_local)
        return _anchored(self.rule, self.starts_local, near, periods_back)

    def _walk(self, local: datetime) -> Iterator[datetime]:
        """Occurrences (instants) from about the wall-clock time `local` on, in rule order."""
        start = local - _LOOKBACK
        for found in self._rule(start).xafter(start, inc=True):
            yield self.instant(found)

    def next_after(self, after: datetime) -> datetime | None:
        """The first occurrence strictly after the instant `after`, or None."""
        if self.rule is None:
            first = self.instant(self.starts_local)
            return first if first > after else None
        for found in islice(self._walk(self.local(after)), _MAX_STEPS):
            if found > after:  # the look-back, or a repeated hour on a fall-back day
                return found
        return None

    def previous_before(self, instant: datetime) -> datetime | None:
        """The last occurrence strictly before the instant, or None."""
        if self.rule is None:
            return None
        target = self.local(instant) + _LOOKBACK
        for periods_back in (1, 8, 64, None):
            rule = self._rule(target, periods_back) if periods_back else self._rule()
            local = rule.before(target)
            for _ in range(_MAX_STEPS):
                if local is None or self.instant(local) < instant:
                    break
                local = rule.before(local)
            if local is not None:
                return self.instant(local)
        return None

    def latest_at_or_before(self, instant: datetime) -> datetime | None:
        return self.previous_before(instant + timedelta(microseconds=1))

    def between(self, start: datetime, end: datetime, limit: int) -> list[datetime]:
        """Occurrences in [start, end), at most `limit`."""
        if self.rule is None:
            first = self.instant(self.starts_local)
            return [first] if start <= first < end else []
        found: list[datetime] = []
        for instant in self._walk(self.local(start)):
            if instant >= end or len(found) >= limit:
                break
            if instant >= start:
                found.append(instant)
        return found


_Rule = dateutil_rrule.rrule


@functools.lru_cache(maxsize=4096)
def _parsed(rule: str, starts_local: datetime) -> _Rule:
    parsed = dateutil_rrule.rrulestr(rule, dtstart=starts_local, forceset=False)
    assert isinstance(parsed, dateutil_rrule.rrule)
    return parsed


def _parts(rule: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in rule.split(";") if "=" in part)


@functools.lru_cache(maxsize=4096)
def _explicit(rule: str, starts_local: datetime) -> str:
    """The rule with each part dateutil would take from the start written out."""
    parts = _parts(rule)
    frequency = parts["FREQ"]
    added: dict[str, object] = {}
    if not any(name in parts for name in ("BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")):
        if frequency == "YEARLY":
            added["BYMONTH"] = parts.get("BYMONTH", starts_local.month)
            added["BYMONTHDAY"] = starts_local.day
        elif frequency == "MONTHLY":
            added["BYMONTHDAY"] = starts_local.day
        elif frequency == "WEEKLY":
            added["BYDAY"] = _WEEKDAYS[starts_local.weekday()]
    if frequency != "HOURLY":
        added.setdefault("BYHOUR", parts.get("BYHOUR", starts_local.hour))
    added.setdefault("BYMINUTE", parts.get("BYMINUTE", starts_local.minute))
    added.setdefault("BYSECOND", parts.get("BYSECOND", starts_local.second))
    return ";".join(f"{name}={value}" for name, value in {**parts, **added}.items())


def _anchored(rule: str, start: datetime, near: datetime, periods_back: int) -> _Rule:
    anchor = _anchor(_parts(rule), start, near, periods_back)
    if anchor is None:
        return _parsed(rule, start)
    return _parsed(_explicit(rule, start), anchor)


def _anchor(
    parts: dict[str, str], start: datetime, near: datetime, periods_back: int
) -> datetime | None:
    """The first moment of the recurrence period `periods_back` periods (whole intervals)
    before the one holding `near`; None when that is the rule's first period, or the rule
    counts its occurrences from the start."""
    if "COUNT" in parts or near <= start:
        return None
    frequency, interval = parts["FREQ"], int(parts.get("INTERVAL", "1"))
    if frequency == "YEARLY":
        steps = (near.year - start.year) // interval - periods_back
        return datetime(start.year + steps * interval, 1, 1) if steps > 0 else None
    if frequency == "MONTHLY":
        months = (near.year - start.year) * 12 + near.month - start.month
        steps = months // interval - periods_back
        if steps <= 0:
            return None
        index = start.year * 12 + start.month - 1 + steps * interval
        return datetime(index // 12, index % 12 + 1, 1)
    length = {
        "WEEKLY": timedelta(weeks=interval),
        "DAILY": timedelta(days=interval),
        "HOURLY": timedelta(hours=interval),
    }[frequency]
    steps = (near - start) // length - periods_back
    if steps <= 0:
        return None
    anchor = start + steps * length
    if frequency == "HOURLY":
        return anchor.replace(minute=0, second=0)
    day = anchor.date()
    if frequency == "WEEKLY":
        week_start = _WEEKDAYS.index(parts.get("WKST", "MO"))
        day -= timedelta(days=(day.weekday() - week_start) % 7)
    return datetime.combine(day, time())


def rule_for(preset: str | None, rule: str | None) -> str | None:
    """The stored rule of a preset name or a client's rule (either, not both)."""
    if preset is not None and rule is not None:
        raise InvalidRecurrence("Give `repeat` or `rrule`, not both.")
    if preset is not None:
        return PRESETS[preset]
    return rule


def checked_schedule(schedule: Schedule, now: datetime) -> tuple[Schedule, datetime | None]:
    """The schedule as stored (its rule without an `RRULE:` prefix, in capitals, an UNTIL in
    UTC turned into the zone's wall-clock time) and its first occurrence after `now`, once its
    rule is known to be one RFC 5545 RRULE that dateutil reads, that can occur at all, and no
    more often than hourly."""
    if schedule.rule is None:
        return schedule, schedule.next_after(now)
    text = _checked_text(schedule.rule.strip().upper().removeprefix("RRULE:"), schedule)
    schedule = Schedule(schedule.starts_local, schedule.timezone, text)
    try:
        rule = schedule._rule()
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise InvalidRecurrence(f"Not an RFC 5545 recurrence rule: {exc}") from None
    if not _can_occur(_parts(text)):
        raise InvalidRecurrence("The rule's days never occur (such as 30 February).")
    first = list(islice(rule, _GAP_SAMPLE))
    if any(later - earlier < MIN_GAP for earlier, later in pairwise(first)):
        raise InvalidRecurrence("A reminder repeats at most hourly.")
    return schedule, schedule.next_after(now)


def _checked_text(text: str, schedule: Schedule) -> str:
    if any(character in text for character in "\r\n:"):
        raise InvalidRecurrence("Give one RRULE (no DTSTART, EXDATE or other lines).")
    if any("=" not in part for part in text.split(";")):
        raise InvalidRecurrence("Each part of a rule is NAME=VALUE.")
    parts = _parts(text)
    unknown = sorted(set(parts) - _PARTS)
    if unknown:
        raise InvalidRecurrence(f"Not a part of an RFC 5545 rule: {', '.join(unknown)}.")
    frequency = parts.get("FREQ")
    if frequency in ("MINUTELY", "SECONDLY"):
        raise InvalidRecurrence("A reminder repeats at most hourly.")
    if frequency not in _FREQUENCIES:
        raise InvalidRecurrence(f"FREQ is one of {', '.join(_FREQUENCIES)}.")
    for name, frequencies in _NOT_WITH.items():
        if name in parts and frequency in frequencies:
            raise InvalidRecurrence(f"{name} is not used with FREQ={frequency} (RFC 5545).")
    if "COUNT" in parts and "UNTIL" in parts:
        raise InvalidRecurrence("Give COUNT or UNTIL, not both.")
    interval = parts.get("INTERVAL", "1")
    if not (interval.isdigit() and 1 <= int(interval) <= MAX_INTERVAL):
        raise InvalidRecurrence(f"INTERVAL is between 1 and {MAX_INTERVAL}.")
    count = parts.get("COUNT", "1")
    if not (count.isdigit() and 1 <= int(count) <= MAX_COUNT):
        raise InvalidRecurrence(f"COUNT is between 1 and {MAX_COUNT}.")
    until = parts.get("UNTIL", "")
    if until.endswith("Z"):
        try:
            instant = datetime.strptime(until, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise InvalidRecurrence("UNTIL is a date or a date-time.") from None
        parts["UNTIL"] = schedule.local(instant).strftime("%Y%m%dT%H%M%S")
        text = ";".join(f"{name}={value}" for name, value in parts.items())
    return text


def _can_occur(parts: dict[str, str]) -> bool:
    """Whether a day that the rule's day parts allow comes at all, tried on a whole 400-year
    Gregorian cycle (the weekdays and leap years repeat after it) near the calendar's end, so
    that dateutil's walk through days that never come stays short. Ordinals of BYDAY and
    BYSETPOS are left out: they only narrow what is found."""
    kept = {name: parts[name] for name in _DAY_PARTS if name in parts}
    if not kept:
        return True
    if "BYDAY" in kept:
        kept["BYDAY"] = ",".join(day.lstrip("+-0123456789") for day in kept["BYDAY"].split(","))
    probe = ";".join(["FREQ=YEARLY", *(f"{name}={value}" for name, value in kept.items())])
    return _parsed(probe, datetime(9599, 1, 1)).after(datetime(9599, 1, 1), inc=True) is not None

"""When a reminder fires: its occurrences as instants, from a wall-clock start in an IANA zone
and an optional RFC 5545 recurrence rule (python-dateutil), evaluated in local time so that a
daily 09:00 reminder stays at 09:00 across daylight-saving changes.

A wall-clock time that does not exist on a spring-forward day (02:30 in Berlin on the last
Sunday of March) fires at the same distance after the change (03:30); one that exists twice
on a fall-back day fires at the first (`fold=0`).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from dateutil import rrule as dateutil_rrule

from diarist.reminders.errors import InvalidRecurrence

# The presets a client may name instead of writing a rule.
PRESETS = {
    "daily": "FREQ=DAILY",
    "weekdays": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "weekly": "FREQ=WEEKLY",
    "monthly": "FREQ=MONTHLY",
}
# More often than hourly is not a reminder but a flood.
_REFUSED_FREQUENCIES = ("SECONDLY", "MINUTELY")
# A rule is refused when its next occurrence is not found within this many steps.
_MAX_STEPS = 10_000


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

    def _rule(self) -> dateutil_rrule.rrule:
        assert self.rule is not None
        parsed = dateutil_rrule.rrulestr(self.rule, dtstart=self.starts_local, forceset=False)
        assert isinstance(parsed, dateutil_rrule.rrule)
        return parsed

    def next_after(self, after: datetime) -> datetime | None:
        """The first occurrence strictly after the instant `after`, or None."""
        if self.rule is None:
            first = self.instant(self.starts_local)
            return first if first > after else None
        for local in self._locals_after(self.local(after)):
            found = self.instant(local)
            if found > after:  # a repeated hour on a fall-back day may map back
                return found
        return None

    def previous_before(self, instant: datetime) -> datetime | None:
        """The last occurrence strictly before the instant, or None."""
        if self.rule is None:
            return None
        local = self._rule().before(self.local(instant))
        return self.instant(local) if local is not None else None

    def between(self, start: datetime, end: datetime, limit: int) -> list[datetime]:
        """Occurrences in [start, end), at most `limit`."""
        found: list[datetime] = []
        if self.rule is None:
            first = self.instant(self.starts_local)
            return [first] if start <= first < end else []
        for local in self._locals_after(self.local(start), inclusive=True):
            instant = self.instant(local)
            if instant >= end or len(found) >= limit:
                break
            if instant >= start:
                found.append(instant)
        return found

    def _locals_after(self, local: datetime, *, inclusive: bool = False) -> Iterator[datetime]:
        rule = self._rule()
        current = rule.after(local, inc=inclusive)
        steps = 0
        while current is not None and steps < _MAX_STEPS:
            yield current
            current = rule.after(current)
            steps += 1


def rule_for(preset: str | None, rule: str | None) -> str | None:
    """The stored rule of a preset name or a client's rule (either, not both)."""
    if preset is not None and rule is not None:
        raise InvalidRecurrence("Give `repeat` or `rrule`, not both.")
    if preset is not None:
        return PRESETS[preset]
    return rule


def checked_schedule(schedule: Schedule, now: datetime) -> tuple[Schedule, datetime | None]:
    """The schedule as stored (its rule without an `RRULE:` prefix) and its first occurrence
    after `now`, once its rule is known to be one RRULE that dateutil reads, no more often
    than hourly."""
    if schedule.rule is not None:
        text = schedule.rule.strip().removeprefix("RRULE:")
        if "\n" in text or "\r" in text or ":" in text:
            raise InvalidRecurrence("Give one RRULE (no DTSTART, EXDATE or other lines).")
        frequency = next(
            (part[5:].upper() for part in text.split(";") if part.upper().startswith("FREQ=")),
            None,
        )
        if frequency in _REFUSED_FREQUENCIES:
            raise InvalidRecurrence("A reminder repeats at most hourly.")
        schedule = Schedule(schedule.starts_local, schedule.timezone, text)
        try:
            schedule._rule()
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
            raise InvalidRecurrence(f"Not an RFC 5545 recurrence rule: {exc}") from None
    return schedule, schedule.next_after(now)

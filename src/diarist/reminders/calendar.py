"""The private iCalendar feed (RFC 5545) of a user's reminders, for any calendar app: one event
a reminder at its local start time in its own zone (a VTIMEZONE for each zone), repeating by
its rule, with an alarm at the time itself (icalendar)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta

import icalendar

from diarist.models import Reminder
from diarist.reminders.schedule import Schedule

PRODUCT = "-//diarist//reminders//EN"
_DURATION = timedelta(minutes=15)


def reminders_calendar(reminders: Iterable[Reminder], now: datetime) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "diarist reminders")
    for reminder in reminders:
        schedule = Schedule(reminder.starts_local, reminder.timezone, reminder.rrule)
        event = icalendar.Event()
        event.add("uid", f"{reminder.id}@diarist")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", reminder.starts_local.replace(tzinfo=schedule.zone))
        event.add("duration", _DURATION)
        event.add("summary", reminder.title)
        if reminder.description:
            event.add("description", reminder.description)
        event.add("priority", _ical_priority(reminder.priority))
        if reminder.rrule:
            event.add("rrule", _recurrence(reminder.rrule, schedule))
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", reminder.title)
        alarm.add("trigger", timedelta(0))
        event.add_component(alarm)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    document: bytes = calendar.to_ical()
    return document


def _recurrence(rule: str, schedule: Schedule) -> icalendar.vRecur:
    """The stored rule for a calendar: its UNTIL (wall-clock time in the reminder's zone) in
    UTC, as RFC 5545 asks beside a DTSTART with a zone."""
    recurrence: icalendar.vRecur = icalendar.vRecur.from_ical(rule)
    if "UNTIL" in recurrence:
        until = recurrence["UNTIL"][0]
        local = until if isinstance(until, datetime) else datetime.combine(until, time())
        recurrence["UNTIL"] = [schedule.instant(local)]
    return recurrence


def _ical_priority(priority: int) -> int:
    """Ours is 1 (low) to 5 (high); iCalendar's 1 is the highest, 9 the lowest."""
    return {1: 9, 2: 7, 3: 5, 4: 3, 5: 1}[priority]

"""The schedule on its own: a rule walked from an anchor gives the plain walk's occurrences,
rules that would flood or never come are refused, and wall-clock times across clock changes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from dateutil import rrule as dateutil_rrule

from diarist.reminders.errors import InvalidRecurrence
from diarist.reminders.schedule import Schedule, checked_schedule

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
RULES = [
    "FREQ=DAILY",
    "FREQ=DAILY;INTERVAL=3",
    "FREQ=DAILY;BYHOUR=7,19;BYMINUTE=15",
    "FREQ=WEEKLY",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR",
    "FREQ=WEEKLY;INTERVAL=3;BYDAY=SU,WE;WKST=SU",
    "FREQ=MONTHLY",
    "FREQ=MONTHLY;INTERVAL=5",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=YEARLY",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
    "FREQ=YEARLY;BYWEEKNO=1,52;BYDAY=MO",
    "FREQ=YEARLY;BYYEARDAY=100,-1",
    "FREQ=HOURLY;INTERVAL=5",
    "FREQ=HOURLY;INTERVAL=7;BYHOUR=1,8,15,22;BYMINUTE=30",
    "FREQ=HOURLY;BYDAY=SA;BYMINUTE=45",
]


@pytest.mark.parametrize("rule", RULES)
def test_a_rule_walked_from_an_anchor_gives_the_plain_walks_occurrences(rule: str) -> None:
    picks = random.Random(rule)  # noqa: S311 (test data, not a secret)
    for _ in range(8):
        start = datetime(2000, 1, 1) + timedelta(minutes=picks.randrange(20 * 365 * 24 * 60))
        start = start.replace(second=picks.choice([0, 0, 17]))
        plain = dateutil_rrule.rrulestr(rule, dtstart=start)
        assert isinstance(plain, dateutil_rrule.rrule)
        schedule = Schedule(start, "UTC", rule)
        asked = start + timedelta(days=picks.randrange(1, 4000), minutes=picks.randrange(1440))
        after = asked.replace(tzinfo=UTC)
        expected = plain.after(asked)
        assert schedule.next_after(after) == (expected and expected.replace(tzinfo=UTC))
        earlier = plain.before(asked)
        assert schedule.previous_before(after) == (earlier and earlier.replace(tzinfo=UTC))
        month = plain.between(asked, asked + timedelta(days=40), inc=True)
        window = [at.replace(tzinfo=UTC) for at in month][:25]
        assert schedule.between(after, after + timedelta(days=40), 25) == window


def test_a_reminder_repeating_for_a_century_costs_no_more_than_a_new_one() -> None:
    """The anchor: found at once, not after a walk through a million hours."""
    schedule = Schedule(datetime(1901, 1, 5, 9, 0), "Europe/Berlin", "FREQ=HOURLY")
    upcoming = schedule.next_after(NOW)
    assert upcoming == datetime(2026, 12, 5, 4, 0, tzinfo=UTC)
    assert schedule.latest_at_or_before(NOW) == NOW
    assert len(schedule.between(NOW, NOW + timedelta(days=2), 100)) == 48


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=HOURLY;BYMINUTE=0,30",
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0,1",
        "FREQ=DAILY;BYSECOND=0,1",
        "FREQ=MINUTELY",
        "FREQ=SECONDLY;INTERVAL=3600",
    ],
)
def test_more_often_than_hourly_is_refused_however_written(rule: str) -> None:
    with pytest.raises(InvalidRecurrence, match="hourly"):
        checked_schedule(Schedule(datetime(2027, 1, 1, 9), "UTC", rule), NOW)


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ("FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30", "never occur"),
        ("FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31", "never occur"),
        ("FREQ=WEEKLY;BYMONTHDAY=3", "not used with"),
        ("FREQ=DAILY;BYWEEKNO=3", "not used with"),
        ("FREQ=DAILY;BYEASTER=0", "Not a part"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20300101T000000", "COUNT or UNTIL"),
        ("FREQ=DAILY;COUNT=100000", "COUNT is between"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL is between"),
        ("FREQ=DAILY;UNTIL=2030-01-01Z", "UNTIL"),
        ("FREQ=DAILY;BYDAY", "NAME=VALUE"),
    ],
)
def test_rules_that_cannot_be_a_reminder_are_refused(rule: str, says: str) -> None:
    with pytest.raises(InvalidRecurrence, match=says):
        checked_schedule(Schedule(datetime(2027, 1, 1, 9), "UTC", rule), NOW)


def test_an_until_in_utc_becomes_the_zones_wall_clock() -> None:
    rule = "rrule:freq=daily;until=20270103T140000Z"
    given = Schedule(datetime(2027, 1, 1, 9), "America/New_York", rule)
    schedule, first = checked_schedule(given, NOW)
    assert schedule.rule == "FREQ=DAILY;UNTIL=20270103T090000"
    assert first == datetime(2027, 1, 1, 14, 0, tzinfo=UTC)
    assert len(schedule.between(NOW, NOW + timedelta(days=30), 10)) == 3


def test_a_time_skipped_by_spring_forward_fires_after_it_even_when_asked_from_inside_it() -> None:
    """02:30 in Berlin does not exist on 2027-03-28: it fires at 03:30 local (01:30 UTC), also
    when the next occurrence is looked for at 03:10 local (01:10 UTC)."""
    schedule = Schedule(datetime(2027, 3, 20, 2, 30), "Europe/Berlin", "FREQ=DAILY")
    inside = datetime(2027, 3, 28, 1, 10, tzinfo=UTC)
    assert schedule.next_after(inside) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert schedule.next_after(datetime(2027, 3, 28, 1, 30, tzinfo=UTC)) == datetime(
        2027, 3, 29, 0, 30, tzinfo=UTC
    )


def test_a_time_repeated_by_fall_back_fires_once() -> None:
    schedule = Schedule(datetime(2027, 10, 25, 1, 30), "America/New_York", "FREQ=DAILY")
    day = datetime(2027, 11, 7, 4, 0, tzinfo=UTC)
    found = schedule.between(day, day + timedelta(days=1), 5)
    assert found == [datetime(2027, 11, 7, 5, 30, tzinfo=UTC)]

"""The reminders API: making, listing, changing and deleting reminders; snooze, complete,
skip and the upcoming occurrences; the notification feed and the webhook; and bad input,
refused as problem+json with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import icalendar
import pytest

from diarist.config import Settings
from tests.factories.accounts import Account, signed_up
from tests.factories.journal import create_entry


def _soon(hours: float = 2) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def _made(client: httpx.AsyncClient, account: Account, **fields: Any) -> dict[str, Any]:
    body = {"title": "Water the plants", "remind_at": _soon(), **fields}
    made = await client.post("/api/v1/reminders", json=body, headers=account.auth)
    assert made.status_code == 201, made.text
    reminder: dict[str, Any] = made.json()
    return reminder


async def test_a_one_off_reminder_from_making_to_deleting(client: httpx.AsyncClient) -> None:
    me = await signed_up(client)
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    made = await _made(client, me, remind_at=at.isoformat(), description="the ferns", priority=4)
    assert made["priority"] == 4
    assert made["timezone"] == "UTC"
    assert made["rrule"] is None
    assert datetime.fromisoformat(made["next_at"]) == at
    assert made["is_completed"] is False
    assert made["completed_at"] is None
    url = f"/api/v1/reminders/{made['id']}"
    assert (await client.get(url, headers=me.auth)).json()["title"] == "Water the plants"
    listed = (await client.get("/api/v1/reminders", headers=me.auth)).json()
    assert [item["id"] for item in listed["items"]] == [made["id"]]

    changed = await client.patch(url, json={"title": "Water the ferns"}, headers=me.auth)
    assert changed.json()["title"] == "Water the ferns"
    done = await client.post(f"{url}/complete", headers=me.auth)
    assert done.json()["is_completed"] is True
    assert done.json()["completed_at"] is not None
    assert done.json()["next_at"] is None
    again = await client.post(f"{url}/complete", headers=me.auth)
    assert again.status_code == 409
    assert again.json()["code"] == "reminder_finished"
    completed = await client.get("/api/v1/reminders?status=completed", headers=me.auth)
    assert [item["id"] for item in completed.json()["items"]] == [made["id"]]
    reopened = await client.patch(url, json={"is_completed": False}, headers=me.auth)
    assert reopened.json()["is_completed"] is False
    assert reopened.json()["next_at"] is not None

    other = await signed_up(client)
    assert (await client.get(url, headers=other.auth)).status_code == 404
    assert (await client.delete(url, headers=other.auth)).status_code == 404
    assert (await client.delete(url, headers=me.auth)).status_code == 204
    assert (await client.get(url, headers=me.auth)).json()["code"] == "reminder_not_found"


async def test_a_wall_clock_time_is_kept_in_its_zone(client: httpx.AsyncClient) -> None:
    me = await signed_up(client)
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date()
    made = await _made(
        client, me, remind_at=f"{tomorrow}T09:00:00", timezone="Europe/Berlin", repeat="daily"
    )
    assert made["starts_local"] == f"{tomorrow}T09:00:00"
    assert made["rrule"] == "FREQ=DAILY"
    upcoming = await client.get(
        "/api/v1/reminders/upcoming",
        params={
            "start": f"{tomorrow}T00:00:00Z",
            "end": f"{tomorrow + timedelta(days=3)}T00:00:00Z",
        },
        headers=me.auth,
    )
    locals_ = [item["local"] for item in upcoming.json()["items"]]
    assert len(locals_) == 3
    assert all(datetime.fromisoformat(local).hour == 9 for local in locals_)


async def test_repeating_reminders_skip_complete_and_snooze(client: httpx.AsyncClient) -> None:
    me = await signed_up(client)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    made = await _made(client, me, remind_at=start.isoformat(), rrule="RRULE:FREQ=DAILY;COUNT=3")
    url = f"/api/v1/reminders/{made['id']}"
    assert made["rrule"] == "FREQ=DAILY;COUNT=3"
    skipped = (await client.post(f"{url}/skip", headers=me.auth)).json()
    assert datetime.fromisoformat(skipped["next_at"]) == start + timedelta(days=1)
    snoozed = await client.post(f"{url}/snooze", json={"minutes": 30}, headers=me.auth)
    assert snoozed.status_code == 200
    due = datetime.fromisoformat(snoozed.json()["due_at"])
    assert due == datetime.fromisoformat(snoozed.json()["snoozed_until"])
    window = {
        "start": datetime.now(UTC).isoformat(),
        "end": (start + timedelta(days=5)).isoformat(),
    }
    upcoming = (
        await client.get("/api/v1/reminders/upcoming", params=window, headers=me.auth)
    ).json()
    assert [item["snoozed"] for item in upcoming["items"]] == [True, False, False]
    # The last occurrence skipped: none left, so completing finishes the reminder.
    await client.post(f"{url}/skip", headers=me.auth)
    last = (await client.post(f"{url}/skip", headers=me.auth)).json()
    assert last["next_at"] is None
    assert (await client.post(f"{url}/skip", headers=me.auth)).status_code == 409
    finished = (await client.post(f"{url}/complete", headers=me.auth)).json()
    assert finished["is_completed"] is True


async def test_completing_a_repeating_reminder_moves_past_todays_occurrence(
    client: httpx.AsyncClient,
) -> None:
    me = await signed_up(client)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    made = await _made(client, me, remind_at=start.isoformat(), repeat="daily")
    done = (await client.post(f"/api/v1/reminders/{made['id']}/complete", headers=me.auth)).json()
    assert done["is_completed"] is False
    assert datetime.fromisoformat(done["next_at"]) == start + timedelta(days=1)


async def test_a_reminder_about_an_entry(client: httpx.AsyncClient) -> None:
    me, other = await signed_up(client), await signed_up(client)
    entry = await create_entry(client, me.auth)
    theirs = await create_entry(client, other.auth)
    made = await _made(client, me, entry_id=entry["id"])
    assert made["entry_id"] == entry["id"]
    refused = await client.post(
        "/api/v1/reminders",
        json={"title": "x", "remind_at": _soon(), "entry_id": theirs["id"]},
        headers=me.auth,
    )
    assert refused.status_code == 404
    assert refused.json()["code"] == "entry_not_found"
    purged = await client.delete(f"/api/v1/entries/{entry['id']}/purge", headers=me.auth)
    assert purged.status_code == 204
    kept = await client.get(f"/api/v1/reminders/{made['id']}", headers=me.auth)
    assert kept.json()["entry_id"] is None


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"remind_at": "2020-01-01T09:00:00Z"}, "reminder_in_past"),
        ({"priority": 6}, "validation_error"),
        ({"priority": 0}, "validation_error"),
        ({"title": "   "}, "validation_error"),
        ({"title": "x" * 201}, "validation_error"),
        ({"rrule": "FREQ=SOMETIMES"}, "invalid_recurrence"),
        ({"rrule": "FREQ=DAILY;BYDAY=XX"}, "invalid_recurrence"),
        ({"rrule": "FREQ=MINUTELY"}, "invalid_recurrence"),
        ({"rrule": "FREQ=DAILY\nEXDATE:20300101T000000"}, "invalid_recurrence"),
        ({"rrule": "DTSTART:20300101T000000"}, "invalid_recurrence"),
        ({"rrule": "FREQ=DAILY;UNTIL=20200101T000000", "remind_at": "2019-01-01T09:00:00"},
         "reminder_in_past"),
        ({"repeat": "daily", "rrule": "FREQ=DAILY"}, "invalid_recurrence"),
        ({"repeat": "hourly"}, "validation_error"),
        ({"timezone": "Mars/Olympus"}, "validation_error"),
        ({"channels": ["app", "app"]}, "validation_error"),
        ({"channels": ["pager"]}, "validation_error"),
        ({"remind_at": "tomorrow"}, "validation_error"),
        ({"surprise": True}, "validation_error"),
    ],
)  # fmt: skip
async def test_bad_reminders_are_refused(
    client: httpx.AsyncClient, fields: dict[str, Any], code: str
) -> None:
    me = await signed_up(client)
    body = {"title": "Stretch", "remind_at": _soon(), **fields}
    refused = await client.post("/api/v1/reminders", json=body, headers=me.auth)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == code
    assert (await client.get("/api/v1/reminders?status=all", headers=me.auth)).json()["items"] == []


async def test_bad_changes_are_refused(client: httpx.AsyncClient) -> None:
    me = await signed_up(client)
    made = await _made(client, me)
    url = f"/api/v1/reminders/{made['id']}"
    cases = [
        ({"is_completed": True}, "validation_error"),  # completed without completed_at
        ({"completed_at": "2026-01-01T00:00:00Z"}, "validation_error"),
        ({"priority": 6}, "validation_error"),
        ({"rrule": "FREQ=NEVER"}, "invalid_recurrence"),
        ({"once": True, "repeat": "daily"}, "invalid_recurrence"),
        ({"remind_at": "2020-01-01T00:00:00Z"}, "reminder_in_past"),
        ({"rrule": None}, "validation_error"),  # would read as "repeat no more"
        ({"timezone": None}, "validation_error"),
        ({"title": None, "priority": None}, "validation_error"),
        ({"rrule": "FREQ=DAILY;BYMINUTE=0,30"}, "invalid_recurrence"),  # twice an hour
    ]
    for patch, code in cases:
        refused = await client.patch(url, json=patch, headers=me.auth)
        assert refused.status_code == 422, (patch, refused.text)
        assert refused.json()["code"] == code
    assert (await client.get(url, headers=me.auth)).json() == made
    snooze = [{}, {"minutes": 0}, {"minutes": 5, "until": _soon()},
              {"until": "2020-01-01T00:00:00Z"}, {"until": "2030-01-01T00:00:00"}]  # fmt: skip
    for body in snooze:
        assert (await client.post(f"{url}/snooze", json=body, headers=me.auth)).status_code == 422
    window = {"start": "2030-01-01T00:00:00Z", "end": "2032-01-01T00:00:00Z"}
    too_long = await client.get("/api/v1/reminders/upcoming", params=window, headers=me.auth)
    assert too_long.status_code == 422
    bad_cursor = await client.get("/api/v1/reminders?cursor=nonsense", headers=me.auth)
    assert bad_cursor.status_code == 400


async def test_the_count_of_reminders_is_limited(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    settings.reminders.max_per_user = 2
    me = await signed_up(client)
    await _made(client, me)
    await _made(client, me)
    refused = await client.post(
        "/api/v1/reminders", json={"title": "x", "remind_at": _soon()}, headers=me.auth
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "too_many_reminders"


async def test_the_webhook_is_set_shown_and_removed(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    me = await signed_up(client)
    assert (await client.get("/api/v1/notifications/webhook", headers=me.auth)).status_code == 404
    local = {"url": "http://127.0.0.1:9/hook"}
    refused = await client.put("/api/v1/notifications/webhook", json=local, headers=me.auth)
    assert refused.status_code == 422
    assert refused.json()["code"] == "webhook_not_allowed"
    bad = await client.put(
        "/api/v1/notifications/webhook", json={"url": "ftp://x"}, headers=me.auth
    )
    assert bad.status_code == 422
    settings.reminders.allow_private_hosts = True
    made = await client.put("/api/v1/notifications/webhook", json=local, headers=me.auth)
    assert made.status_code == 201
    assert made.json()["secret"].startswith("whsec_")
    shown = (await client.get("/api/v1/notifications/webhook", headers=me.auth)).json()
    assert shown["url"] == local["url"]
    assert "secret" not in shown
    replaced = await client.put("/api/v1/notifications/webhook", json=local, headers=me.auth)
    assert replaced.json()["secret"] != made.json()["secret"]
    assert (
        await client.delete("/api/v1/notifications/webhook", headers=me.auth)
    ).status_code == 204
    assert (
        await client.delete("/api/v1/notifications/webhook", headers=me.auth)
    ).status_code == 404


async def test_an_empty_feed_and_unknown_notifications(client: httpx.AsyncClient) -> None:
    me = await signed_up(client)
    feed = (await client.get("/api/v1/notifications", headers=me.auth)).json()
    assert feed == {"items": [], "next_cursor": None, "unread": 0}
    unknown = await client.post(
        "/api/v1/notifications/0190a0a0-0000-7000-8000-000000000000/read", headers=me.auth
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "notification_not_found"
    assert (await client.post("/api/v1/notifications/read-all", headers=me.auth)).json() == {
        "marked": 0
    }


async def test_an_entry_written_from_a_reminder(client: httpx.AsyncClient) -> None:
    me, other = await signed_up(client), await signed_up(client)
    made = await _made(client, me, title="Call Grandma", description="Ask about the garden.")
    written = await client.post(f"/api/v1/reminders/{made['id']}/entry", headers=me.auth)
    assert written.status_code == 201, written.text
    entry_id = written.json()["entry_id"]
    assert written.headers["location"] == f"/api/v1/entries/{entry_id}"
    entry = (await client.get(written.headers["location"], headers=me.auth)).json()
    assert entry["title"] == "Call Grandma"
    assert entry["raw_data"]["text"] == "Ask about the garden."
    linked = (await client.get(f"/api/v1/reminders/{made['id']}", headers=me.auth)).json()
    assert linked["entry_id"] == entry_id
    theirs = await client.post(f"/api/v1/reminders/{made['id']}/entry", headers=other.auth)
    assert theirs.status_code == 404


async def test_the_private_calendar_feed(client: httpx.AsyncClient) -> None:
    me, other = await signed_up(client), await signed_up(client)
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    await _made(client, me, title="Yoga", remind_at=f"{day}T07:30:00",
                timezone="America/New_York", repeat="weekdays", priority=5)  # fmt: skip
    until = f"{(day + timedelta(days=9)).strftime('%Y%m%d')}T170000Z"
    await _made(client, me, title="Stretch", remind_at=f"{day}T18:00:00",
                timezone="Europe/Berlin", rrule=f"FREQ=DAILY;UNTIL={until}")  # fmt: skip
    await _made(client, other, title="Not mine")
    assert (await client.delete("/api/v1/calendar/feed", headers=me.auth)).status_code == 404
    made = await client.post("/api/v1/calendar/feed", headers=me.auth)
    assert made.status_code == 201
    url = made.json()["url"]
    assert "/api/v1/calendar/dcal_" in url
    feed = await client.get(url)  # no credentials: the URL is the key
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(feed.content)
    event, stretch = sorted(
        calendar.walk("VEVENT"), key=lambda found: str(found["summary"]) != "Yoga"
    )
    assert str(event["summary"]) == "Yoga"
    assert stretch["rrule"].to_ical() == f"FREQ=DAILY;UNTIL={until}".encode(), "UNTIL in UTC"
    start = event.decoded("dtstart")
    assert (start.hour, start.minute, str(start.tzinfo)) == (7, 30, "America/New_York")
    assert event["rrule"].to_ical() == b"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert event.decoded("priority") == 1
    zones = sorted(str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE"))
    assert zones == ["America/New_York", "Europe/Berlin"]
    assert "Not mine" not in feed.text

    replaced = (await client.post("/api/v1/calendar/feed", headers=me.auth)).json()["url"]
    assert (await client.get(url)).status_code == 404, "a new URL retires the old one"
    assert (await client.get(replaced)).status_code == 200
    assert (await client.delete("/api/v1/calendar/feed", headers=me.auth)).status_code == 204
    gone = await client.get(replaced)
    assert gone.status_code == 404
    assert gone.json()["code"] == "calendar_feed_not_found"
    assert (await client.get("/api/v1/calendar/dcal_nonsense-token.ics")).status_code == 404


async def test_completing_after_being_reminded_skips_nothing_more(
    client: httpx.AsyncClient,
) -> None:
    me = await signed_up(client)
    fired = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=4)
    made = await _made(client, me, remind_at=fired.isoformat(), repeat="daily")
    assert datetime.fromisoformat(made["next_at"]) == fired + timedelta(days=1)
    # The occurrence four hours ago is nearer than the next one (in twenty hours).
    done = (await client.post(f"/api/v1/reminders/{made['id']}/complete", headers=me.auth)).json()
    assert datetime.fromisoformat(done["next_at"]) == fired + timedelta(days=1)

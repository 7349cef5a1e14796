"""The reminders page and the notification feed: a reminder made through the form at wall-clock
time in my zone and listed with its next time and rule in words; refused input answered with
the page and nothing written; complete, skip, snooze and delete through their forms; the feed
with mark read and the bell's count; forged forms, another account's reminder and markup in a
title."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.config import Settings
from diarist.db.engine import act_as
from diarist.reminders import repository as reminders_repository
from diarist.web.render import local_time
from tests.factories.accounts import signed_up
from tests.web.pages import (
    active_parts,
    alert_text,
    bearer,
    browser_user_id,
    hidden_fields,
    signed_up_in_browser,
    submit,
)

ZONE = "Asia/Tokyo"  # 09:00 there is 00:00 UTC: a time shown in UTC would read differently


async def _in_zone(client: httpx.AsyncClient, zone: str = ZONE) -> None:
    fields = {"name": "Ada", "timezone": zone, "language": "en"}
    saved = await submit(client, "/settings", "/settings/profile", fields)
    assert saved.status_code == 303, saved.text


def _tomorrow(zone: str = ZONE) -> date:
    return datetime.now(ZoneInfo(zone)).date() + timedelta(days=1)


async def _api_reminders(client: httpx.AsyncClient, status: str = "all") -> list[dict[str, Any]]:
    listed = await client.get(f"/api/v1/reminders?status={status}", headers=bearer(client))
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


async def _made(client: httpx.AsyncClient, **fields: str) -> dict[str, Any]:
    """A reminder made on the page (tomorrow 09:00 on my clock unless told); as the API
    shows it."""
    before = {item["id"] for item in await _api_reminders(client)}
    form = {"title": "Water the plants", "remind_at": f"{_tomorrow()}T09:00", **fields}
    made = await submit(client, "/reminders", "/reminders", form)
    assert made.status_code == 303, alert_text(made.text)
    assert made.headers["location"] == "/reminders"
    (new,) = [item for item in await _api_reminders(client) if item["id"] not in before]
    return new


def _bell(html: str) -> str | None:
    """The unread count the header's bell shows (None: no badge)."""
    found = re.search(r'class="bell"[^>]*>Notifications <span class="badge">([^<]+)</span>', html)
    return found.group(1) if found else None


async def test_a_daily_reminder_made_on_the_page_is_listed_on_my_clock(
    client: httpx.AsyncClient,
) -> None:
    await signed_up_in_browser(client)
    await _in_zone(client)
    made = await _made(client, title="Stretch", repeat="daily", priority="4")
    assert made["timezone"] == ZONE
    assert made["rrule"] == "FREQ=DAILY"
    assert made["priority"] == 4
    assert made["channels"] is None, "none ticked: my default channels"
    first = datetime.combine(_tomorrow(), time(9), ZoneInfo(ZONE))
    assert datetime.fromisoformat(made["next_at"]) == first
    html = (await client.get("/reminders")).text
    shown = re.search(r'<time class="next" datetime="[^"]+">([^<]+)</time>', html)
    assert shown, html
    assert shown.group(1) == local_time(first, ZONE)
    assert shown.group(1).endswith("09:00")
    assert "Every day at 09:00 · priority 4" in html
    assert "told by my default channels" in html
    upcoming = html.split('id="upcoming-h"')[1].split('id="active-h"')[0]
    assert upcoming.count(">09:00</time> Stretch") in {13, 14}, "every day of the two weeks"
    by_email = await _made(client, title="Weekly", repeat="weekly", channel_email="1")
    assert by_email["channels"] == ["email"]
    html = (await client.get("/reminders")).text
    assert f"Every week on {_tomorrow():%A} at 09:00" in html
    assert "told by email" in html


async def test_refused_input_is_answered_with_the_page_and_nothing_written(
    client: httpx.AsyncClient,
) -> None:
    await signed_up_in_browser(client)
    await _in_zone(client)
    yesterday = _tomorrow() - timedelta(days=2)
    for fields, words in (
        ({"title": "   "}, "title"),
        ({"remind_at": f"{yesterday}T09:00"}, "has passed"),
        ({"priority": "9"}, "priority"),
        ({"remind_at": ""}, "remind_at"),
        ({"repeat": "hourly"}, "repeat"),
    ):
        form = {"title": "Call mum", "remind_at": f"{_tomorrow()}T09:00", **fields}
        response = await submit(client, "/reminders", "/reminders", form)
        assert response.status_code == 422, fields
        assert words in alert_text(response.text), (fields, alert_text(response.text))
        assert "<h1>Reminders</h1>" in response.text, "the page again, with its form"
    kept = await submit(
        client, "/reminders", "/reminders", {"title": "Kept", "remind_at": f"{yesterday}T09:00"}
    )
    assert 'name="title" required maxlength="200" value="Kept"' in kept.text, "as filled in"
    assert await _api_reminders(client) == []


async def test_complete_skip_snooze_and_delete_through_their_forms(
    client: httpx.AsyncClient,
) -> None:
    await signed_up_in_browser(client)
    await _in_zone(client)
    daily = await _made(client, title="Stretch", repeat="daily")
    once = await _made(client, title="Dentist")
    fields = hidden_fields((await client.get("/reminders")).text)

    skipped = await client.post(f"/reminders/{daily['id']}/skip", data=fields)
    assert skipped.status_code == 303
    after_skip = await client.get(f"/api/v1/reminders/{daily['id']}", headers=bearer(client))
    next_at = datetime.fromisoformat(after_skip.json()["next_at"])
    assert next_at == datetime.fromisoformat(daily["next_at"]) + timedelta(days=1)

    before = datetime.now(UTC)
    snoozed = await client.post(f"/reminders/{daily['id']}/snooze", data={**fields, "snooze": "60"})
    assert snoozed.status_code == 303
    shown = await client.get(f"/api/v1/reminders/{daily['id']}", headers=bearer(client))
    until = datetime.fromisoformat(shown.json()["snoozed_until"])
    assert before + timedelta(minutes=59) < until < datetime.now(UTC) + timedelta(minutes=61)
    assert "snoozed until" in (await client.get("/reminders")).text
    tomorrow = await client.post(
        f"/reminders/{once['id']}/snooze", data={**fields, "snooze": "tomorrow"}
    )
    assert tomorrow.status_code == 303
    shown = await client.get(f"/api/v1/reminders/{once['id']}", headers=bearer(client))
    until = datetime.fromisoformat(shown.json()["snoozed_until"])
    assert until == datetime.combine(_tomorrow(), time(9), ZoneInfo(ZONE))
    bogus = await client.post(f"/reminders/{once['id']}/snooze", data={**fields, "snooze": "x"})
    assert bogus.status_code == 422
    assert "minutes" in alert_text(bogus.text)

    done = await client.post(f"/reminders/{once['id']}/complete", data=fields)
    assert done.status_code == 303
    assert [r["id"] for r in await _api_reminders(client, "completed")] == [once["id"]]
    completed = (await client.get("/reminders")).text.split('id="completed-h"')[1]
    assert "Dentist" in completed
    again = await client.post(f"/reminders/{once['id']}/complete", data=fields)
    assert again.status_code == 409
    assert "completed" in alert_text(again.text)

    gone = await client.post(f"/reminders/{daily['id']}/delete", data=fields)
    assert gone.status_code == 303
    missing = await client.get(f"/api/v1/reminders/{daily['id']}", headers=bearer(client))
    assert missing.status_code == 404
    assert [r["id"] for r in await _api_reminders(client)] == [once["id"]]


async def test_a_forged_form_is_refused_and_writes_nothing(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    made = await _made(client)
    form = {"title": "Forged", "remind_at": f"{_tomorrow()}T09:00"}
    assert (await client.post("/reminders", data=form)).status_code == 403
    assert (await client.post("/reminders", data={**form, "csrf": "nope"})).status_code == 403
    for action in ("complete", "skip", "delete"):
        refused = await client.post(f"/reminders/{made['id']}/{action}", data={"csrf": "x"})
        assert refused.status_code == 403, action
    read_all = await client.post("/notifications/read-all", data={})
    assert read_all.status_code == 403
    assert [r["id"] for r in await _api_reminders(client)] == [made["id"]]
    assert (await _api_reminders(client))[0]["next_at"] == made["next_at"]


async def test_another_accounts_reminder_is_not_found(client: httpx.AsyncClient) -> None:
    other = await signed_up(client)
    theirs = await client.post(
        "/api/v1/reminders",
        json={"title": "Theirs", "remind_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
        headers=other.auth,
    )
    assert theirs.status_code == 201
    their_id = theirs.json()["id"]
    await signed_up_in_browser(client)
    fields = hidden_fields((await client.get("/reminders")).text)
    for action in ("complete", "skip", "delete"):
        response = await client.post(f"/reminders/{their_id}/{action}", data=fields)
        assert response.status_code == 404, action
        assert "No reminder of mine has this id." in alert_text(response.text)
    snooze = await client.post(f"/reminders/{their_id}/snooze", data={**fields, "snooze": "10"})
    assert snooze.status_code == 404
    unknown = await client.post(f"/notifications/{uuid.uuid4()}/read", data=fields)
    assert unknown.status_code == 404
    assert "No notification of mine" in alert_text(unknown.text)
    still = await client.get(f"/api/v1/reminders/{their_id}", headers=other.auth)
    assert still.json()["snoozed_until"] is None
    assert still.json()["is_completed"] is False


async def _notify(session: AsyncSession, user_id: uuid.UUID, **fields: Any) -> None:
    await act_as(session, user_id)
    row = {"user_id": user_id, "kind": "reminder", "title": "Stretch", "body": "", **fields}
    await reminders_repository.insert_notifications(session, [row])
    await session.commit()


async def test_the_feed_and_the_bell(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await signed_up_in_browser(client)
    user_id = await browser_user_id(client)
    assert _bell((await client.get("/")).text) is None, "nothing unread: no badge"
    await _notify(session, user_id, title="Stretch", body="Time to move.", link="/reminders")
    await _notify(session, user_id, title="Elsewhere", link="//evil.example/x")
    home = (await client.get("/")).text
    assert _bell(home) == "2"
    assert 'Notifications <span class="badge">2</span><span class="visually-hidden"> unread' in home
    feed = await client.get("/notifications")
    assert feed.status_code == 200
    assert "2 unread" in feed.text
    assert '<a href="/reminders">Stretch</a>' in feed.text
    assert "Time to move." in feed.text
    assert "evil.example" not in feed.text, "a link off this site is not a link"
    assert "Elsewhere" in feed.text
    ids = re.findall(r'action="/notifications/([0-9a-f-]{36})/read"', feed.text)
    assert len(ids) == 2
    fields = hidden_fields(feed.text)
    read = await client.post(f"/notifications/{ids[0]}/read", data=fields)
    assert read.status_code == 303
    assert read.headers["location"] == "/notifications"
    feed = await client.get("/notifications")
    assert _bell(feed.text) == "1"
    assert "1 unread" in feed.text
    assert len(re.findall(r'action="/notifications/[0-9a-f-]{36}/read"', feed.text)) == 1
    all_read = await client.post("/notifications/read-all", data=fields)
    assert all_read.status_code == 303
    feed = await client.get("/notifications")
    assert _bell(feed.text) is None
    assert "0 unread" in feed.text
    assert "Mark all read" not in feed.text
    unread = await client.get("/api/v1/notifications", headers=bearer(client))
    assert unread.json()["unread"] == 0


async def test_markup_in_a_title_is_text(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await signed_up_in_browser(client)
    payload = "<script>alert(1)</script>"
    await _made(client, title=payload, description='<img src=x onerror="alert(2)">')
    await _notify(session, await browser_user_id(client), title=payload, link="javascript:alert(3)")
    for path in ("/reminders", "/notifications"):
        html = (await client.get(path)).text
        assert payload not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
        assert active_parts(html) == [], path
    assert "javascript:" not in (await client.get("/notifications")).text


async def test_this_browser_subscribes_to_pushes(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await signed_up_in_browser(client)
    page = await client.get("/notifications")
    key = re.search(r'data-key="([A-Za-z0-9_-]+)"', page.text)
    assert key, "the page carries the server's VAPID key for the script"
    assert len(base64.urlsafe_b64decode(key.group(1) + "==")) == 65
    fields = {**hidden_fields(page.text), "endpoint": "https://127.0.0.1/push/1",
              "p256dh": "B" + "A" * 86, "auth": "A" * 22}  # fmt: skip
    fields["csrf"] = re.search(r'data-csrf="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    private = await client.post("/notifications/push", data=fields)
    assert private.status_code == 422
    assert "public addresses" in private.text
    settings.reminders.allow_private_hosts = True
    assert (await client.post("/notifications/push", data=fields)).status_code == 204
    listed = await client.get("/api/v1/notifications/push/subscriptions", headers=bearer(client))
    assert [s["endpoint"] for s in listed.json()] == ["https://127.0.0.1/push/1"]
    bad = await client.post("/notifications/push", data={**fields, "auth": "x"})
    assert bad.status_code == 422
    forged = await client.post("/notifications/push", data={**fields, "csrf": "forged"})
    assert forged.status_code == 403


async def test_write_about_a_reminder(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    made = await _made(client, title="Call Grandma")
    page = await client.get("/reminders")
    fields = hidden_fields(page.text)
    written = await client.post(f"/reminders/{made['id']}/entry", data={"csrf": fields["csrf"]})
    assert written.status_code == 303
    assert written.headers["location"].endswith("/edit")
    editing = await client.get(written.headers["location"])
    assert "Call Grandma" in editing.text
    gone = await client.post(
        "/reminders/0190a0a0-0000-7000-8000-000000000000/entry", data={"csrf": fields["csrf"]}
    )
    assert gone.status_code == 404

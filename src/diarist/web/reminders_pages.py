"""Reminders and the notification feed: the next two weeks' occurrences, my reminders with
their next time and rule in words, the completed ones, a form to make one (wall-clock time in
my zone), complete, skip, snooze and delete; the feed with mark read. Each form calls the
service the API route calls and is validated by the API's own models."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.config import AppSettings
from diarist.db.session import DbSession
from diarist.errors import DiaristError
from diarist.models import Notification, Reminder
from diarist.reminders import service
from diarist.reminders.push import application_server_key, vapid_key
from diarist.reminders.schedule import PRESETS
from diarist.reminders.schemas import (
    PushSubscriptionIn,
    ReminderCreate,
    SnoozeIn,
    UpcomingQuery,
)
from diarist.web.render import page
from diarist.web.viewer import SignedIn, Viewer, checked_form, field, pages_router, refusal

reminders_pages = pages_router()
UPCOMING_DAYS = 14
ACTIVE_SHOWN = 200
COMPLETED_SHOWN = 20
FEED_SHOWN = 50
REPEATS = {"": "Does not repeat", "daily": "Every day",
           "weekdays": "Every weekday (Monday to Friday)", "weekly": "Every week",
           "monthly": "Every month"}  # fmt: skip
CHANNELS = {"app": "In the app", "email": "Email", "webhook": "My webhook",
            "push": "Browsers I turned notifications on in"}  # fmt: skip
SNOOZES = {"10": "10 minutes", "60": "1 hour", "tomorrow": "Tomorrow at 09:00"}


def _now() -> datetime:
    return datetime.now(UTC)


def rule_words(reminder: Reminder, zone: str) -> str:
    """How a reminder repeats, in words for the presets (the RRULE itself otherwise), at its
    wall-clock time (its own zone named when it is not the viewer's)."""
    start = reminder.starts_local
    at = f"at {start:%H:%M}" + (f" ({reminder.timezone})" if reminder.timezone != zone else "")
    words = {
        None: f"Once, {start:%a %d %b %Y} {at}",
        PRESETS["daily"]: f"Every day {at}",
        PRESETS["weekdays"]: f"Every weekday (Monday to Friday) {at}",
        PRESETS["weekly"]: f"Every week on {start:%A} {at}",
        PRESETS["monthly"]: f"Every month on day {start.day} {at}",
    }
    return words.get(reminder.rrule, f"Repeats by the rule {reminder.rrule}")


def _default_time(zone: str, now: datetime) -> str:
    """The form's first offer: the next full hour, on my clock."""
    local = now.astimezone(ZoneInfo(zone)) + timedelta(hours=1)
    return local.strftime("%Y-%m-%dT%H:00")


async def _reminders_page(
    request: Request,
    session: AsyncSession,
    me: Viewer,
    *,
    form: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    user_id, now = me.principal.user_id, _now()
    window = UpcomingQuery(start=now, end=now + timedelta(days=UPCOMING_DAYS))
    _start, _end, found = await service.upcoming_occurrences(session, user_id, window, now)
    zone = ZoneInfo(me.zone)
    days = [
        (day, list(occurrences))
        for day, occurrences in groupby(found, key=lambda o: o.at.astimezone(zone).date())
    ]
    active, more = await service.list_reminders(
        session, user_id, status="active", cursor=None, limit=ACTIVE_SHOWN
    )
    # Soonest first; one with no occurrence left (its last one skipped) at the end.
    active.sort(key=lambda r: (r.due_at is None, r.due_at or now))
    completed, _ = await service.list_reminders(
        session, user_id, status="completed", cursor=None, limit=COMPLETED_SHOWN
    )
    context: dict[str, Any] = {
        "me": me, "csrf": me.csrf, "days": days, "upcoming_days": UPCOMING_DAYS,
        "active": [(r, rule_words(r, me.zone)) for r in active], "more": more is not None,
        "completed": completed, "repeats": REPEATS, "channels": CHANNELS, "snoozes": SNOOZES,
        "form": form or {"remind_at": _default_time(me.zone, now), "priority": "2"},
        "errors": errors or [],
    }  # fmt: skip
    return page(request, "reminders.html", context, status)


@reminders_pages.get("/reminders")
async def reminders(request: Request, session: DbSession, me: SignedIn) -> Response:
    return await _reminders_page(request, session, me)


def _reminder_fields(form: dict[str, str], zone: str) -> dict[str, Any]:
    """The API's reminder from the page's form: the time as wall-clock time in my zone, no
    channel ticked is my default channels."""
    values: dict[str, Any] = {
        "title": field(form, "title"),
        "description": field(form, "description"),
        "remind_at": field(form, "remind_at"),
        "timezone": zone,
        "kind": field(form, "kind") or "reminder",
        "repeat": field(form, "repeat") or None,
        "channels": [name for name in CHANNELS if form.get(f"channel_{name}")] or None,
    }
    if priority := field(form, "priority"):
        values["priority"] = priority
    return values


async def _changed(
    request: Request, session: AsyncSession, me: Viewer, change: Callable[[], Awaitable[Any]],
    form: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    """Do `change`; back to the page, or the page again with what was refused (and the form
    as it was filled in)."""
    try:
        await change()
    except (ValidationError, DiaristError) as exc:
        errors, status = await refusal(session, exc)
        return await _reminders_page(request, session, me, form=form, errors=errors, status=status)
    return RedirectResponse("/reminders", status_code=303)


@reminders_pages.post("/reminders")
async def create(
    request: Request, session: DbSession, me: SignedIn, settings: AppSettings
) -> Response:
    form = await checked_form(request, me.csrf)

    async def change() -> None:
        body = ReminderCreate.model_validate(_reminder_fields(form, me.zone))
        await service.create_reminder(
            session, settings.reminders, me.principal.user_id, body, _now()
        )

    return await _changed(request, session, me, change, form)


# One button a reminder, one service call each: Done, Skip the next one, Delete.
_ACTIONS: dict[str, Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[object]]] = {
    "complete": lambda s, user, reminder: service.complete_reminder(s, user, reminder, _now()),
    "skip": service.skip_occurrence,
    "delete": service.delete_reminder,
}


def _action_route(name: str) -> None:
    act = _ACTIONS[name]

    async def acted(
        request: Request, session: DbSession, me: SignedIn, reminder_id: uuid.UUID
    ) -> Response:
        await checked_form(request, me.csrf)

        async def change() -> None:
            await act(session, me.principal.user_id, reminder_id)

        return await _changed(request, session, me, change)

    path = f"/reminders/{{reminder_id}}/{name}"
    reminders_pages.add_api_route(path, acted, methods=["POST"], name=f"reminder_{name}")


for _name in _ACTIONS:
    _action_route(_name)


@reminders_pages.post("/reminders/{reminder_id}/entry")
async def write_about_it(
    request: Request, session: DbSession, me: SignedIn, settings: AppSettings,
    reminder_id: uuid.UUID,
) -> Response:  # fmt: skip
    """An entry written from the reminder (its title and description), opened for editing."""
    await checked_form(request, me.csrf)
    try:
        entry_id = await service.write_entry_from_reminder(
            session, settings.journal, me.principal.user_id, reminder_id
        )
    except DiaristError as exc:
        errors, status = await refusal(session, exc)
        return await _reminders_page(request, session, me, errors=errors, status=status)
    return RedirectResponse(f"/entries/{entry_id}/edit", status_code=303)


def _snooze_fields(chosen: str, zone: str, now: datetime) -> dict[str, Any]:
    """The API's snooze from the page's choice: minutes, or tomorrow 09:00 on my clock."""
    if chosen == "tomorrow":
        tomorrow = now.astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
        return {"until": datetime.combine(tomorrow, time(9), ZoneInfo(zone))}
    return {"minutes": chosen}


@reminders_pages.post("/reminders/{reminder_id}/snooze")
async def snooze(
    request: Request, session: DbSession, me: SignedIn, reminder_id: uuid.UUID
) -> Response:
    form = await checked_form(request, me.csrf)

    async def change() -> None:
        now = _now()
        body = SnoozeIn.model_validate(_snooze_fields(field(form, "snooze"), me.zone, now))
        await service.snooze_reminder(session, me.principal.user_id, reminder_id, body, now)

    return await _changed(request, session, me, change)


# The notification feed.


def local_link(link: str | None) -> str | None:
    """A notification's link when it is a path on this site (never another origin)."""
    if link and link.startswith("/") and not link.startswith(("//", "/\\")):
        return link
    return None


async def _notifications_page(
    request: Request,
    session: AsyncSession,
    me: Viewer,
    *,
    cursor: str | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    rows, next_cursor, unread = await service.list_notifications(
        session, me.principal.user_id, unread=False, cursor=cursor, limit=FEED_SHOWN
    )
    items: list[tuple[Notification, str | None]] = [(row, local_link(row.link)) for row in rows]
    push_key = application_server_key(vapid_key(request.app.state.settings))
    context: dict[str, Any] = {
        "me": me, "csrf": me.csrf, "items": items, "unread": unread,
        "next_cursor": next_cursor, "errors": errors or [], "push_key": push_key,
    }  # fmt: skip
    return page(request, "notifications.html", context, status)


@reminders_pages.get("/notifications")
async def notifications(
    request: Request, session: DbSession, me: SignedIn, cursor: str | None = None
) -> Response:
    return await _notifications_page(request, session, me, cursor=cursor)


@reminders_pages.post("/notifications/read-all")
async def read_all(request: Request, session: DbSession, me: SignedIn) -> Response:
    await checked_form(request, me.csrf)
    await service.mark_all_read(session, me.principal.user_id, _now())
    return RedirectResponse("/notifications", status_code=303)


@reminders_pages.post("/notifications/{notification_id}/read")
async def read_one(
    request: Request, session: DbSession, me: SignedIn, notification_id: uuid.UUID
) -> Response:
    await checked_form(request, me.csrf)
    try:
        await service.mark_notification_read(session, me.principal.user_id, notification_id, _now())
    except DiaristError as exc:
        errors, status = await refusal(session, exc)
        return await _notifications_page(request, session, me, errors=errors, status=status)
    return RedirectResponse("/notifications", status_code=303)


@reminders_pages.post("/notifications/push")
async def subscribe_browser(
    request: Request, session: DbSession, me: SignedIn, settings: AppSettings
) -> Response:
    """This browser's push subscription, posted by the page's script (204, or 422 with the
    reason as text)."""
    form = await checked_form(request, me.csrf)
    try:
        body = PushSubscriptionIn.model_validate(
            {"endpoint": field(form, "endpoint"),
             "keys": {"p256dh": field(form, "p256dh"), "auth": field(form, "auth")}}
        )  # fmt: skip
        await service.subscribe_browser(
            session, settings.reminders, me.principal.user_id, body.endpoint,
            body.keys.p256dh, body.keys.auth,
        )  # fmt: skip
    except (ValidationError, DiaristError) as exc:
        errors, status = await refusal(session, exc)
        return Response("; ".join(errors), status_code=status, media_type="text/plain")
    return Response(status_code=204)

"""HTTP routes: reminders, their upcoming occurrences and deliveries; the notification feed
and the webhook."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from diarist.accounts.dependencies import CurrentPrincipal
from diarist.config import AppSettings
from diarist.db.session import DbSession
from diarist.kit.responses import problem_responses
from diarist.reminders import service
from diarist.reminders.push import application_server_key, vapid_key
from diarist.reminders.schemas import (
    CalendarFeedOut,
    DeliveryOut,
    DeliveryQuery,
    EntryMade,
    ListQuery,
    NotificationOut,
    NotificationPage,
    NotificationQuery,
    OccurrenceOut,
    PushKeyOut,
    PushSubscriptionIn,
    PushSubscriptionOut,
    ReadAllOut,
    ReminderCreate,
    ReminderOut,
    ReminderPage,
    ReminderPatch,
    SnoozeIn,
    UpcomingOut,
    UpcomingQuery,
    WebhookCreatedOut,
    WebhookIn,
    WebhookOut,
)

reminders_router = APIRouter(prefix="/api/v1/reminders", tags=["reminders"])
notifications_router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
calendar_router = APIRouter(prefix="/api/v1/calendar", tags=["reminders"])
_READ = problem_responses(400, 401, 404, 422)
_WRITE = problem_responses(400, 401, 403, 404, 409, 422)


def _now() -> datetime:
    return datetime.now(UTC)


@reminders_router.post("", status_code=201, response_model=ReminderOut, responses=_WRITE)
async def create_reminder(
    body: ReminderCreate, session: DbSession, me: CurrentPrincipal, settings: AppSettings
) -> ReminderOut:
    """A reminder: once at `remind_at`, or repeating (`repeat` preset or an RFC 5545 `rrule`)
    from it, in `timezone` (default: mine). A one-off time in the past is refused."""
    reminder = await service.create_reminder(session, settings.reminders, me.user_id, body, _now())
    return ReminderOut.model_validate(reminder)


@reminders_router.get("", response_model=ReminderPage, responses=_READ)
async def list_reminders(
    query: Annotated[ListQuery, Query()], session: DbSession, me: CurrentPrincipal
) -> ReminderPage:
    """My reminders, newest first: active (default), completed or all."""
    rows, cursor = await service.list_reminders(
        session, me.user_id, status=query.status, cursor=query.cursor, limit=query.limit
    )
    return ReminderPage(items=[ReminderOut.model_validate(r) for r in rows], next_cursor=cursor)


@reminders_router.get("/upcoming", response_model=UpcomingOut, responses=_READ)
async def upcoming(
    query: Annotated[UpcomingQuery, Query()], session: DbSession, me: CurrentPrincipal
) -> UpcomingOut:
    """The occurrences still to fire in a window (default: the next 7 days), soonest first."""
    start, end, found = await service.upcoming_occurrences(session, me.user_id, query, _now())
    items = [
        OccurrenceOut(
            reminder_id=o.reminder.id,
            title=o.reminder.title,
            kind=o.reminder.kind,
            at=o.at,
            local=o.local,
            snoozed=o.snoozed,
        )
        for o in found
    ]
    return UpcomingOut(start=start, end=end, items=items)


@reminders_router.get("/deliveries", response_model=list[DeliveryOut], responses=_READ)
async def deliveries(
    query: Annotated[DeliveryQuery, Query()], session: DbSession, me: CurrentPrincipal
) -> list[DeliveryOut]:
    """Email and webhook sends of my reminders, newest first, with their attempts and the
    last error of a failing one."""
    rows = await service.list_deliveries(
        session, me.user_id, status=query.status, limit=query.limit
    )
    return [DeliveryOut.model_validate(row) for row in rows]


@reminders_router.get("/{reminder_id}", response_model=ReminderOut, responses=_READ)
async def get_reminder(
    reminder_id: uuid.UUID, session: DbSession, me: CurrentPrincipal
) -> ReminderOut:
    return ReminderOut.model_validate(await service.get_reminder(session, me.user_id, reminder_id))


@reminders_router.patch("/{reminder_id}", response_model=ReminderOut, responses=_WRITE)
async def update_reminder(
    reminder_id: uuid.UUID, body: ReminderPatch, session: DbSession, me: CurrentPrincipal
) -> ReminderOut:
    """Change any field; a new time, zone or rule schedules the next occurrence from now."""
    reminder = await service.update_reminder(session, me.user_id, reminder_id, body, _now())
    return ReminderOut.model_validate(reminder)


@reminders_router.delete("/{reminder_id}", status_code=204, responses=_WRITE)
async def delete_reminder(
    reminder_id: uuid.UUID, session: DbSession, me: CurrentPrincipal
) -> Response:
    await service.delete_reminder(session, me.user_id, reminder_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@reminders_router.post("/{reminder_id}/snooze", response_model=ReminderOut, responses=_WRITE)
async def snooze_reminder(
    reminder_id: uuid.UUID, body: SnoozeIn, session: DbSession, me: CurrentPrincipal
) -> ReminderOut:
    """Fire once more after `minutes` or at `until`."""
    reminder = await service.snooze_reminder(session, me.user_id, reminder_id, body, _now())
    return ReminderOut.model_validate(reminder)


@reminders_router.post("/{reminder_id}/complete", response_model=ReminderOut, responses=_WRITE)
async def complete_reminder(
    reminder_id: uuid.UUID, session: DbSession, me: CurrentPrincipal
) -> ReminderOut:
    """Done: a one-off is completed; a repeating one skips today's occurrence if still due
    and is completed when none is left."""
    reminder = await service.complete_reminder(session, me.user_id, reminder_id, _now())
    return ReminderOut.model_validate(reminder)


@reminders_router.post("/{reminder_id}/skip", response_model=ReminderOut, responses=_WRITE)
async def skip_occurrence(
    reminder_id: uuid.UUID, session: DbSession, me: CurrentPrincipal
) -> ReminderOut:
    """The next occurrence will not fire."""
    reminder = await service.skip_occurrence(session, me.user_id, reminder_id)
    return ReminderOut.model_validate(reminder)


@reminders_router.post(
    "/{reminder_id}/entry", status_code=201, response_model=EntryMade, responses=_WRITE
)
async def write_entry(
    reminder_id: uuid.UUID,
    session: DbSession,
    me: CurrentPrincipal,
    settings: AppSettings,
    response: Response,
) -> EntryMade:
    """Write an entry from the reminder (its title, its description as the text); the reminder
    points at the entry when it pointed at none."""
    entry_id = await service.write_entry_from_reminder(
        session, settings.journal, me.user_id, reminder_id
    )
    response.headers["Location"] = f"/api/v1/entries/{entry_id}"
    return EntryMade(entry_id=entry_id)


@calendar_router.post("/feed", status_code=201, response_model=CalendarFeedOut, responses=_WRITE)
async def create_calendar_feed(
    request: Request, session: DbSession, me: CurrentPrincipal
) -> CalendarFeedOut:
    """A private URL of my reminders as an iCalendar feed, for any calendar app (shown once;
    a new one replaces the old URL)."""
    token = await service.create_calendar_feed(session, me.user_id)
    url = str(request.url_for("calendar_feed", token=token))
    return CalendarFeedOut(url=url)


@calendar_router.delete("/feed", status_code=204, responses=_WRITE)
async def revoke_calendar_feed(session: DbSession, me: CurrentPrincipal) -> Response:
    """The feed's URL stops working."""
    await service.revoke_calendar_feed(session, me.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@calendar_router.get(
    "/{token}.ics",
    name="calendar_feed",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "The iCalendar document."},
        **problem_responses(404, 422),
    },
)
async def calendar_feed(
    token: Annotated[str, Path(min_length=10, max_length=100)], session: DbSession
) -> Response:
    """My reminders as iCalendar (RFC 5545), opened by the feed's secret URL alone."""
    document = await service.calendar_of_feed(session, token, _now())
    return Response(
        document,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, no-store"},
    )


@notifications_router.get("", response_model=NotificationPage, responses=_READ)
async def list_notifications(
    query: Annotated[NotificationQuery, Query()], session: DbSession, me: CurrentPrincipal
) -> NotificationPage:
    """My notification feed, newest first (`unread=true`: only unread), with the unread count."""
    rows, cursor, unread = await service.list_notifications(
        session, me.user_id, unread=query.unread, cursor=query.cursor, limit=query.limit
    )
    items = [NotificationOut.model_validate(row) for row in rows]
    return NotificationPage(items=items, next_cursor=cursor, unread=unread)


@notifications_router.post("/read-all", response_model=ReadAllOut, responses=_WRITE)
async def mark_all_read(session: DbSession, me: CurrentPrincipal) -> ReadAllOut:
    return ReadAllOut(marked=await service.mark_all_read(session, me.user_id, _now()))


@notifications_router.post("/{notification_id}/read", status_code=204, responses=_WRITE)
async def mark_read(
    notification_id: uuid.UUID, session: DbSession, me: CurrentPrincipal
) -> Response:
    await service.mark_notification_read(session, me.user_id, notification_id, _now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@notifications_router.get("/push/key", response_model=PushKeyOut, responses=_READ)
async def push_key(settings: AppSettings, me: CurrentPrincipal) -> PushKeyOut:
    """This server's VAPID public key, for `pushManager.subscribe`."""
    return PushKeyOut(public_key=application_server_key(vapid_key(settings)))


@notifications_router.post(
    "/push/subscriptions", status_code=201, response_model=PushSubscriptionOut, responses=_WRITE
)
async def subscribe_browser(
    body: PushSubscriptionIn, session: DbSession, me: CurrentPrincipal, settings: AppSettings
) -> PushSubscriptionOut:
    """This browser receives my reminders by web push (channel `push`)."""
    found = await service.subscribe_browser(
        session, settings.reminders, me.user_id, body.endpoint, body.keys.p256dh, body.keys.auth
    )
    return PushSubscriptionOut.model_validate(found)


@notifications_router.get(
    "/push/subscriptions", response_model=list[PushSubscriptionOut], responses=_READ
)
async def list_browsers(session: DbSession, me: CurrentPrincipal) -> list[PushSubscriptionOut]:
    rows = await service.list_browsers(session, me.user_id)
    return [PushSubscriptionOut.model_validate(row) for row in rows]


@notifications_router.delete(
    "/push/subscriptions/{subscription_id}", status_code=204, responses=_WRITE
)
async def unsubscribe_browser(
    subscription_id: uuid.UUID, session: DbSession, me: CurrentPrincipal
) -> Response:
    await service.unsubscribe_browser(session, me.user_id, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@notifications_router.get("/webhook", response_model=WebhookOut, responses=_READ)
async def get_webhook(session: DbSession, me: CurrentPrincipal) -> WebhookOut:
    return WebhookOut.model_validate(await service.get_webhook(session, me.user_id))


@notifications_router.put(
    "/webhook", status_code=201, response_model=WebhookCreatedOut, responses=_WRITE
)
async def put_webhook(
    body: WebhookIn, session: DbSession, me: CurrentPrincipal, settings: AppSettings
) -> WebhookCreatedOut:
    """Set or replace my webhook: each delivery is POSTed as JSON with an
    `X-Diarist-Signature: t=<unix>,v1=<HMAC-SHA256 hex of "t.body">` under the secret shown
    here once (a new one each time)."""
    webhook = await service.put_webhook(session, settings.reminders, me.user_id, body.url)
    return WebhookCreatedOut(url=webhook.url, created_at=webhook.created_at, secret=webhook.secret)


@notifications_router.delete("/webhook", status_code=204, responses=_WRITE)
async def delete_webhook(session: DbSession, me: CurrentPrincipal) -> Response:
    await service.delete_webhook(session, me.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

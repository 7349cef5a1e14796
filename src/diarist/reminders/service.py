"""The rules of reminders: making and changing one (its schedule checked and its next
occurrence computed), snooze, complete, skip, the upcoming occurrences, the notification feed
and the webhook. Services never commit; `now` is given (tests move it)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import preferences
from diarist.config import JournalSettings, RemindersSettings
from diarist.db.engine import act_as
from diarist.journal import service as entries_service
from diarist.journal.schemas import EntryCreate
from diarist.kit.net import resolves_to_public
from diarist.kit.pagination import InvalidCursor, decode_cursor, encode_cursor
from diarist.kit.tokens import new_token, token_digest
from diarist.models import (
    Notification,
    NotificationWebhook,
    PushSubscription,
    Reminder,
    ReminderDelivery,
)
from diarist.reminders import repository as repo
from diarist.reminders.calendar import reminders_calendar
from diarist.reminders.errors import (
    CalendarFeedNotFound,
    InvalidRecurrence,
    NotificationNotFound,
    PushEndpointNotAllowed,
    PushSubscriptionNotFound,
    ReminderEntryNotFound,
    ReminderFinished,
    ReminderInPast,
    ReminderNotFound,
    TooManyReminders,
    WebhookNotAllowed,
    WebhookNotFound,
)
from diarist.reminders.schedule import Schedule, checked_schedule, rule_for
from diarist.reminders.schemas import (
    MAX_AHEAD_DAYS,
    MAX_WINDOW_DAYS,
    ReminderCreate,
    ReminderPatch,
    SnoozeIn,
    UpcomingQuery,
)

CALENDAR_TOKEN_PREFIX = "dcal_"  # noqa: S105 (a prefix, not a secret)
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix scanners know, not a secret)
# Unread notifications are counted up to this many.
UNREAD_COUNTED = 1000


def schedule_of(reminder: Reminder) -> Schedule:
    return Schedule(reminder.starts_local, reminder.timezone, reminder.rrule)


def _wall_clock(at: datetime, zone: str) -> datetime:
    """An instant as wall-clock time in `zone`; a time without offset is one already."""
    if at.tzinfo is None:
        return at.replace(microsecond=0)
    return Schedule(at, zone, None).local(at).replace(microsecond=0)


def _first_after(schedule: Schedule, now: datetime) -> tuple[Schedule, datetime]:
    checked, next_at = checked_schedule(schedule, now)
    if next_at is None:
        raise ReminderInPast()
    if next_at > now + timedelta(days=MAX_AHEAD_DAYS):
        raise InvalidRecurrence("The first occurrence is more than ten years away.")
    return checked, next_at


async def _stored(session: AsyncSession, reminder: Reminder) -> Reminder:
    """Flush a new or changed reminder; an entry that is not the user's is refused."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        if constraint == "fk_reminders_entry":
            raise ReminderEntryNotFound() from None
        raise
    await session.refresh(reminder)
    return reminder


async def create_reminder(
    session: AsyncSession,
    settings: RemindersSettings,
    user_id: uuid.UUID,
    body: ReminderCreate,
    now: datetime,
) -> Reminder:
    if await repo.count_reminders(session, user_id) >= settings.max_per_user:
        raise TooManyReminders(f"At most {settings.max_per_user} reminders an account.")
    zone = body.timezone or (await preferences.preferences_of(session, user_id)).timezone
    schedule = Schedule(_wall_clock(body.remind_at, zone), zone, rule_for(body.repeat, body.rrule))
    schedule, next_at = _first_after(schedule, now)
    reminder = Reminder(
        user_id=user_id,
        title=body.title,
        description=body.description,
        priority=body.priority,
        kind=body.kind,
        timezone=zone,
        starts_local=schedule.starts_local,
        rrule=schedule.rule,
        next_at=next_at,
        channels=body.channels,
        entry_id=body.entry_id,
    )
    session.add(reminder)
    return await _stored(session, reminder)


async def get_reminder(
    session: AsyncSession, user_id: uuid.UUID, reminder_id: uuid.UUID, *, lock: bool = False
) -> Reminder:
    reminder = await repo.get_reminder(session, user_id, reminder_id, lock=lock)
    if reminder is None:
        raise ReminderNotFound()
    return reminder


async def list_reminders(
    session: AsyncSession, user_id: uuid.UUID, *, status: str, cursor: str | None, limit: int
) -> tuple[list[Reminder], str | None]:
    before = _cursor_id(cursor)
    rows = await repo.list_reminders(
        session, user_id, status=status, before=before, limit=limit + 1
    )
    return rows[:limit], encode_cursor(rows[limit - 1].id) if len(rows) > limit else None


def _cursor_id(cursor: str | None) -> uuid.UUID | None:
    if not cursor:
        return None
    try:
        return uuid.UUID(decode_cursor(cursor, 1)[0])
    except ValueError:
        raise InvalidCursor("The cursor is not one this server issued.") from None


async def update_reminder(
    session: AsyncSession, user_id: uuid.UUID, reminder_id: uuid.UUID, patch: ReminderPatch,
    now: datetime,
) -> Reminder:  # fmt: skip
    reminder = await get_reminder(session, user_id, reminder_id, lock=True)
    given = patch.model_fields_set
    for name in ("title", "description", "priority", "kind", "channels", "entry_id"):
        if name in given:
            setattr(reminder, name, getattr(patch, name))
    reschedule = bool(given & {"remind_at", "timezone", "repeat", "rrule", "once"})
    if reschedule:
        if patch.once and (patch.repeat or patch.rrule):
            raise InvalidRecurrence("`once` is not given with `repeat` or `rrule`.")
        zone = patch.timezone or reminder.timezone
        starts = _wall_clock(patch.remind_at, zone) if patch.remind_at else reminder.starts_local
        rule = None if patch.once else rule_for(patch.repeat, patch.rrule) or reminder.rrule
        schedule, next_at = _first_after(Schedule(starts, zone, rule), now)
        reminder.timezone, reminder.starts_local, reminder.rrule = zone, starts, schedule.rule
        reminder.next_at = next_at
    if patch.is_completed is True:
        _finish(reminder, patch.completed_at or now)
    elif patch.is_completed is False and reminder.is_completed:
        reminder.is_completed, reminder.completed_at = False, None
        if not reschedule:
            reminder.next_at = schedule_of(reminder).next_after(now)
    return await _stored(session, reminder)


def _finish(reminder: Reminder, when: datetime) -> None:
    reminder.is_completed, reminder.completed_at = True, when
    reminder.next_at, reminder.snoozed_until = None, None


async def delete_reminder(
    session: AsyncSession, user_id: uuid.UUID, reminder_id: uuid.UUID
) -> None:
    if not await repo.delete_reminder(session, user_id, reminder_id):
        raise ReminderNotFound()


async def snooze_reminder(
    session: AsyncSession, user_id: uuid.UUID, reminder_id: uuid.UUID, body: SnoozeIn,
    now: datetime,
) -> Reminder:  # fmt: skip
    """Fire once more at a later time (the regular occurrences go on as before)."""
    reminder = await get_reminder(session, user_id, reminder_id, lock=True)
    if reminder.is_completed:
        raise ReminderFinished()
    until = body.until if body.until is not None else now + timedelta(minutes=body.minutes or 0)
    if until <= now:
        raise ReminderInPast()
    reminder.snoozed_until = until
    return await _stored(session, reminder)


async def complete_reminder(
    session: AsyncSession, user_id: uuid.UUID, reminder_id: uuid.UUID, now: datetime
) -> Reminder:
    """Done. A one-off is completed; a repeating one completes its current occurrence — the
    next one when it is the first, or when now is nearer to it than to the one before (done
    early: it will not fire; done after being reminded: nothing more is skipped) — and is
    completed when none is left."""
    reminder = await get_reminder(session, user_id, reminder_id, lock=True)
    if reminder.is_completed:
        raise ReminderFinished()
    schedule = schedule_of(reminder)
    reminder.snoozed_until = None
    upcoming = reminder.next_at
    if reminder.rrule is None or upcoming is None:
        _finish(reminder, now)
    else:
        before = schedule.previous_before(upcoming)  # None: the first has not fired yet
        if before is None or upcoming - now < now - before:
            reminder.next_at = schedule.next_after(max(upcoming, now))
        if reminder.next_at is None:
            _finish(reminder, now)
    return await _stored(session, reminder)


async def skip_occurrence(
    session: AsyncSession, user_id: uuid.UUID, reminder_id: uuid.UUID
) -> Reminder:
    """The next occurrence will not fire; the one after it is next."""
    reminder = await get_reminder(session, user_id, reminder_id, lock=True)
    if reminder.is_completed or reminder.next_at is None:
        raise ReminderFinished()
    reminder.next_at = schedule_of(reminder).next_after(reminder.next_at)
    return await _stored(session, reminder)


@dataclass(frozen=True)
class Occurrence:
    reminder: Reminder
    at: datetime
    snoozed: bool

    @property
    def local(self) -> datetime:
        return self.at.astimezone(schedule_of(self.reminder).zone)


async def upcoming_occurrences(
    session: AsyncSession, user_id: uuid.UUID, query: UpcomingQuery, now: datetime
) -> tuple[datetime, datetime, list[Occurrence]]:
    """The occurrences still to fire in [start, end), soonest first."""
    start = query.start or now
    end = query.end or start + timedelta(days=7)
    if not start < end <= start + timedelta(days=MAX_WINDOW_DAYS):
        raise InvalidRecurrence(f"A window ends after it starts, {MAX_WINDOW_DAYS} days at most.")
    found: list[Occurrence] = []
    for reminder in await repo.list_live_reminders(session, user_id):
        if reminder.snoozed_until is not None and start <= reminder.snoozed_until < end:
            found.append(Occurrence(reminder, reminder.snoozed_until, True))
        if reminder.next_at is None:
            continue
        window_start = max(start, reminder.next_at)
        for at in schedule_of(reminder).between(window_start, end, query.limit):
            found.append(Occurrence(reminder, at, False))
    found.sort(key=lambda occurrence: occurrence.at)
    return start, end, found[: query.limit]


async def list_deliveries(
    session: AsyncSession, user_id: uuid.UUID, *, status: str | None, limit: int
) -> list[ReminderDelivery]:
    """Email and webhook sends, newest first (failures stay visible here)."""
    return await repo.list_deliveries(session, user_id, status=status, limit=limit)


# The notification feed.


async def list_notifications(
    session: AsyncSession, user_id: uuid.UUID, *, unread: bool, cursor: str | None, limit: int
) -> tuple[list[Notification], str | None, int]:
    before = _cursor_id(cursor)
    rows = await repo.list_notifications(
        session, user_id, unread=unread, before=before, limit=limit + 1
    )
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor, await repo.count_unread(session, user_id, UNREAD_COUNTED)


async def count_unread(session: AsyncSession, user_id: uuid.UUID) -> int:
    """My unread notifications, up to `UNREAD_COUNTED` (the web app's bell)."""
    return await repo.count_unread(session, user_id, UNREAD_COUNTED)


async def mark_notification_read(
    session: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID, now: datetime
) -> None:
    if not await repo.mark_read(session, user_id, notification_id, now) and not (
        await repo.notification_exists(session, user_id, notification_id)
    ):
        raise NotificationNotFound()


async def mark_all_read(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> int:
    return await repo.mark_read(session, user_id, None, now)


# The webhook.


async def put_webhook(
    session: AsyncSession, settings: RemindersSettings, user_id: uuid.UUID, url: str
) -> NotificationWebhook:
    """Set (or replace) the webhook with a new secret."""
    if not settings.allow_private_hosts and not await resolves_to_public(url):
        raise WebhookNotAllowed()
    secret = WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)
    return await repo.put_webhook(session, user_id, url, secret)


async def get_webhook(session: AsyncSession, user_id: uuid.UUID) -> NotificationWebhook:
    webhook = await repo.get_webhook(session, user_id)
    if webhook is None:
        raise WebhookNotFound()
    return webhook


async def delete_webhook(session: AsyncSession, user_id: uuid.UUID) -> None:
    if not await repo.delete_webhook(session, user_id):
        raise WebhookNotFound()


# The private calendar feed.


async def create_calendar_feed(session: AsyncSession, user_id: uuid.UUID) -> str:
    """A new secret token for my calendar feed's URL (replacing any earlier one)."""
    token = new_token(CALENDAR_TOKEN_PREFIX)
    await repo.put_calendar_feed(session, user_id, token_digest(token))
    return token


async def revoke_calendar_feed(session: AsyncSession, user_id: uuid.UUID) -> None:
    if not await repo.delete_calendar_feed(session, user_id):
        raise CalendarFeedNotFound()


async def calendar_of_feed(session: AsyncSession, token: str, now: datetime) -> bytes:
    """The iCalendar document a feed URL shows: the owner's reminders that may still fire."""
    owner = await repo.calendar_feed_owner(session, token_digest(token))
    if owner is None:
        raise CalendarFeedNotFound()
    await act_as(session, owner)
    return reminders_calendar(await repo.list_live_reminders(session, owner), now)


# An entry from a reminder.


async def write_entry_from_reminder(
    session: AsyncSession,
    limits: JournalSettings,
    user_id: uuid.UUID,
    reminder_id: uuid.UUID,
) -> uuid.UUID:
    """An entry titled as the reminder, its description as the first lines; the reminder
    points at it when it pointed at none. The new entry's id."""
    reminder = await get_reminder(session, user_id, reminder_id, lock=True)
    text = reminder.description or reminder.title
    data = EntryCreate(title=reminder.title, raw_data={"format": "markdown", "text": text})
    entry, _ = await entries_service.create_entry(session, user_id, data, limits)
    if reminder.entry_id is None:
        reminder.entry_id = entry.id
        await _stored(session, reminder)
    return entry.id


# Browsers' push subscriptions.


async def subscribe_browser(
    session: AsyncSession,
    settings: RemindersSettings,
    user_id: uuid.UUID,
    endpoint: str,
    p256dh: str,
    auth: str,
) -> PushSubscription:
    """Remember a browser's push subscription (the same endpoint again updates its keys)."""
    if not settings.allow_private_hosts and not await resolves_to_public(endpoint):
        raise PushEndpointNotAllowed()
    return await repo.put_push_subscription(session, user_id, endpoint, p256dh, auth)


async def list_browsers(session: AsyncSession, user_id: uuid.UUID) -> list[PushSubscription]:
    return await repo.list_push_subscriptions(session, user_id)


async def unsubscribe_browser(
    session: AsyncSession, user_id: uuid.UUID, subscription_id: uuid.UUID
) -> None:
    if not await repo.delete_push_subscription(session, user_id, subscription_id):
        raise PushSubscriptionNotFound()

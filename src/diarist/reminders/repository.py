"""Every query of reminders and notifications.

A user's own reads and writes run under their tenant (RLS). The scheduler and the sender work
across users with the system role: they claim rows with `FOR UPDATE SKIP LOCKED`, so two
workers never take the same occurrence or delivery, and the unique keys (an occurrence once
per channel, once in the feed) hold even if they did.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.models import (
    CalendarFeed,
    Notification,
    NotificationWebhook,
    PushSubscription,
    Reminder,
    ReminderDelivery,
    User,
)


async def count_reminders(session: AsyncSession, user_id: uuid.UUID) -> int:
    found = await session.scalar(
        select(func.count()).select_from(Reminder).where(Reminder.user_id == user_id)
    )
    return int(found or 0)


async def get_reminder(
    session: AsyncSession, user_id: uuid.UUID, reminder_id: uuid.UUID, *, lock: bool = False
) -> Reminder | None:
    query = select(Reminder).where(Reminder.user_id == user_id, Reminder.id == reminder_id)
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


async def list_reminders(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    status: str,
    before: uuid.UUID | None,
    limit: int,
) -> list[Reminder]:
    """Newest first (ids are uuidv7: the id is the keyset cursor)."""
    query = select(Reminder).where(Reminder.user_id == user_id)
    if status != "all":
        query = query.where(Reminder.is_completed.is_(status == "completed"))
    if before is not None:
        query = query.where(Reminder.id < before)
    return list((await session.scalars(query.order_by(Reminder.id.desc()).limit(limit))).all())


async def list_live_reminders(session: AsyncSession, user_id: uuid.UUID) -> list[Reminder]:
    """The reminders that may still fire (for the upcoming occurrences)."""
    query = select(Reminder).where(
        Reminder.user_id == user_id, ~Reminder.is_completed, Reminder.due_at.is_not(None)
    )
    return list((await session.scalars(query.order_by(Reminder.due_at))).all())


async def delete_reminder(
    session: AsyncSession, user_id: uuid.UUID, reminder_id: uuid.UUID
) -> bool:
    result = await session.execute(
        delete(Reminder).where(Reminder.user_id == user_id, Reminder.id == reminder_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# The notification feed.


def _feed(user_id: uuid.UUID, unread: bool) -> Select[Notification]:
    query = select(Notification).where(Notification.user_id == user_id)
    return query.where(Notification.read_at.is_(None)) if unread else query


async def list_notifications(
    session: AsyncSession, user_id: uuid.UUID, *, unread: bool, before: uuid.UUID | None, limit: int
) -> list[Notification]:
    query = _feed(user_id, unread)
    if before is not None:
        query = query.where(Notification.id < before)
    return list((await session.scalars(query.order_by(Notification.id.desc()).limit(limit))).all())


async def count_unread(session: AsyncSession, user_id: uuid.UUID, at_most: int) -> int:
    """Unread notifications, counted up to `at_most` (a bell shows "99+", not a number a
    years-old feed makes expensive)."""
    unread = _feed(user_id, True).with_only_columns(Notification.id).limit(at_most).subquery()
    return int(await session.scalar(select(func.count()).select_from(unread)) or 0)


async def mark_read(
    session: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID | None, when: datetime
) -> int:
    """Mark one notification read (or every unread one, with None); how many changed."""
    query = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    result = await session.execute(query.values(read_at=when))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def notification_exists(
    session: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID
) -> bool:
    query = select(Notification.id).where(
        Notification.user_id == user_id, Notification.id == notification_id
    )
    return (await session.scalar(query)) is not None


# The webhook.


async def get_webhook(session: AsyncSession, user_id: uuid.UUID) -> NotificationWebhook | None:
    query = select(NotificationWebhook).where(NotificationWebhook.user_id == user_id)
    return (await session.scalars(query)).one_or_none()


async def put_webhook(
    session: AsyncSession, user_id: uuid.UUID, url: str, secret: str
) -> NotificationWebhook:
    statement = (
        pg_insert(NotificationWebhook)
        .values(user_id=user_id, url=url, secret=secret)
        .on_conflict_do_update(
            constraint="uq_notification_webhooks_user_id",
            set_={"url": url, "secret": secret, "created_at": func.now()},
        )
        .returning(NotificationWebhook)
    )
    return (await session.scalars(statement)).one()


async def delete_webhook(session: AsyncSession, user_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(NotificationWebhook).where(NotificationWebhook.user_id == user_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def put_calendar_feed(session: AsyncSession, user_id: uuid.UUID, token_hash: bytes) -> None:
    statement = (
        pg_insert(CalendarFeed)
        .values(user_id=user_id, token_hash=token_hash)
        .on_conflict_do_update(
            constraint="uq_calendar_feeds_user_id",
            set_={"token_hash": token_hash, "created_at": func.now()},
        )
    )
    await session.execute(statement)


async def delete_calendar_feed(session: AsyncSession, user_id: uuid.UUID) -> bool:
    result = await session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def calendar_feed_owner(session: AsyncSession, token_hash: bytes) -> uuid.UUID | None:
    """Whose feed a token opens (SECURITY DEFINER: no user is known yet)."""
    found = await session.scalar(
        text("SELECT calendar_feed_owner(:token_hash)"), {"token_hash": token_hash}
    )
    return found if isinstance(found, uuid.UUID) else None


async def list_deliveries(
    session: AsyncSession, user_id: uuid.UUID, *, status: str | None, limit: int
) -> list[ReminderDelivery]:
    query = select(ReminderDelivery).where(ReminderDelivery.user_id == user_id)
    if status is not None:
        query = query.where(ReminderDelivery.status == status)
    return list(
        (await session.scalars(query.order_by(ReminderDelivery.id.desc()).limit(limit))).all()
    )


# The scheduler and the sender (system role, across users).


@dataclass(frozen=True)
class DueReminder:
    """A reminder due to fire, with what firing needs of its owner."""

    reminder: Reminder
    preferences: dict[str, Any]
    has_webhook: bool
    has_push: bool


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[DueReminder]:
    """Due reminders, locked until the transaction ends; rows another worker holds are
    skipped (it fires them)."""
    webhook = (
        select(NotificationWebhook.id)
        .where(NotificationWebhook.user_id == Reminder.user_id)
        .exists()
    )
    push = select(PushSubscription.id).where(PushSubscription.user_id == Reminder.user_id).exists()
    query = (
        select(Reminder, User.preferences, webhook, push)
        .join(User, User.id == Reminder.user_id)
        .where(~Reminder.is_completed, Reminder.due_at <= now)
        .order_by(Reminder.due_at)
        .limit(limit)
        .with_for_update(of=Reminder, skip_locked=True)
    )
    rows = await session.execute(query)
    return [
        DueReminder(reminder, preferences or {}, bool(has_webhook), bool(has_push))
        for reminder, preferences, has_webhook, has_push in rows
    ]


async def written_since(session: AsyncSession, user_id: uuid.UUID, since: datetime) -> bool:
    """Whether the user wrote an entry (not in the trash) since `since`."""
    found = await session.scalar(
        text(
            "SELECT EXISTS (SELECT 1 FROM entries WHERE user_id = :user_id"
            " AND created_at >= :since AND deleted_at IS NULL)"
        ),
        {"user_id": user_id, "since": since},
    )
    return bool(found)


async def current_streak(session: AsyncSession, user_id: uuid.UUID, zone: str) -> int:
    """Days in a row with an entry, ending yesterday in `zone` (today may still come)."""
    found = await session.scalar(
        text(
            """
            WITH days AS (
                SELECT DISTINCT (entry_date AT TIME ZONE :zone)::date AS day FROM entries
                WHERE user_id = :user_id AND deleted_at IS NULL
                  AND entry_date >= now() - interval '3 years'
            ), numbered AS (
                SELECT day, row_number() OVER (ORDER BY day DESC) AS n FROM days
                WHERE day < (now() AT TIME ZONE :zone)::date
            )
            SELECT count(*) FROM numbered
            WHERE day = (now() AT TIME ZONE :zone)::date - n::int
            """
        ),
        {"user_id": user_id, "zone": zone},
    )
    return int(found or 0)


async def _insert_new(
    session: AsyncSession, model: type[Any], unique: str, rows: list[dict[str, Any]]
) -> None:
    """Insert the rows whose key (the constraint `unique`) is not there yet."""
    if rows:
        await session.execute(pg_insert(model).on_conflict_do_nothing(constraint=unique), rows)


async def insert_notifications(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Into the feeds; an occurrence already there is not added again."""
    await _insert_new(session, Notification, "uq_notifications_occurrence", rows)


async def insert_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """A delivery an occurrence and channel; one already there is not added again."""
    await _insert_new(session, ReminderDelivery, "uq_reminder_deliveries_occurrence", rows)


async def update_fired(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Each fired reminder's next occurrence, snooze and firing time."""
    if rows:
        await session.execute(
            update(Reminder), rows, execution_options={"synchronize_session": False}
        )


@dataclass(frozen=True)
class ClaimedDelivery:
    id: uuid.UUID
    user_id: uuid.UUID
    channel: str
    attempts: int
    occurrence_at: datetime
    reminder_id: uuid.UUID
    kind: str
    title: str
    # What the feed said (a nudge's words with the streak), else the description.
    body: str
    entry_id: uuid.UUID | None
    email_sealed: bytes
    # Mail goes only to an address its owner confirmed (else anyone could mail anyone).
    email_confirmed: bool
    webhook_url: str | None
    webhook_secret: str | None
    # For a push: the user's browsers' subscriptions, [[id, endpoint, p256dh, auth], ...].
    subscriptions: list[list[str]]


_CLAIM_DELIVERIES = text(
    """
    WITH claimed AS (
        SELECT id FROM reminder_deliveries
        WHERE status IN ('pending', 'sending') AND next_attempt_at <= :now
        ORDER BY next_attempt_at LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ), taken AS (
        UPDATE reminder_deliveries d
        SET status = 'sending', attempts = d.attempts + 1, next_attempt_at = :lease_until
        FROM claimed WHERE d.id = claimed.id
        RETURNING d.id, d.user_id, d.channel, d.attempts, d.occurrence_at, d.reminder_id
    )
    SELECT t.id, t.user_id, t.channel, t.attempts, t.occurrence_at, t.reminder_id, r.kind,
           r.title, coalesce(n.body, r.description), r.entry_id, u.email_sealed,
           u.email_verified_at IS NOT NULL, w.url, w.secret,
           CASE WHEN t.channel = 'push' THEN (
               SELECT coalesce(json_agg(json_build_array(p.id, p.endpoint, p.p256dh, p.auth)),
                               '[]')
               FROM push_subscriptions p WHERE p.user_id = t.user_id
           ) ELSE '[]' END
    FROM taken t
    JOIN reminders r ON r.id = t.reminder_id
    JOIN users u ON u.id = t.user_id
    LEFT JOIN notification_webhooks w ON w.user_id = t.user_id
    LEFT JOIN notifications n ON n.reminder_id = t.reminder_id
                             AND n.occurrence_at = t.occurrence_at
    """
)


async def claim_deliveries(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int
) -> list[ClaimedDelivery]:
    """Deliveries due to be sent, marked `sending` until `lease_until` (a worker that dies
    mid-send leaves them to be claimed again then)."""
    rows = await session.execute(
        _CLAIM_DELIVERIES, {"now": now, "lease_until": lease_until, "limit": limit}
    )
    return [ClaimedDelivery(*row) for row in rows]


async def delete_push_subscriptions(session: AsyncSession, ids: list[str]) -> None:
    """Forget subscriptions their push service says are gone (404, 410)."""
    if ids:
        await session.execute(
            delete(PushSubscription).where(PushSubscription.id.in_([uuid.UUID(i) for i in ids]))
        )


# A user's own browsers.


async def put_push_subscription(
    session: AsyncSession, user_id: uuid.UUID, endpoint: str, p256dh: str, auth: str
) -> PushSubscription:
    statement = (
        pg_insert(PushSubscription)
        .values(user_id=user_id, endpoint=endpoint, p256dh=p256dh, auth=auth)
        .on_conflict_do_update(
            constraint="uq_push_subscriptions_user_id_endpoint",
            set_={"p256dh": p256dh, "auth": auth},
        )
        .returning(PushSubscription)
    )
    return (await session.scalars(statement)).one()


async def list_push_subscriptions(
    session: AsyncSession, user_id: uuid.UUID
) -> list[PushSubscription]:
    query = select(PushSubscription).where(PushSubscription.user_id == user_id)
    return list((await session.scalars(query.order_by(PushSubscription.id))).all())


async def delete_push_subscription(
    session: AsyncSession, user_id: uuid.UUID, subscription_id: uuid.UUID
) -> bool:
    result = await session.execute(
        delete(PushSubscription).where(
            PushSubscription.user_id == user_id, PushSubscription.id == subscription_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


_FINISH = (
    update(ReminderDelivery)
    .where(
        ReminderDelivery.id == bindparam("b_id"),
        ReminderDelivery.status == "sending",
        ReminderDelivery.attempts == bindparam("b_attempts"),
    )
    .values(
        status=bindparam("b_status"),
        sent_at=bindparam("b_sent_at"),
        last_error=bindparam("b_last_error"),
        next_attempt_at=bindparam("b_next_attempt_at"),
    )
)


async def finish_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Record each send's outcome: sent, or back to pending after a backoff, or failed. A
    delivery whose reminder was deleted meanwhile is gone with it, and one whose lease ran
    out and that another worker claimed again is that worker's (both matched by nothing)."""
    if rows:
        connection = await session.connection()
        await connection.execute(_FINISH, rows)


_CLAIM_NEWS_MAIL = text(
    """
    WITH claimed AS (
        SELECT id FROM notifications WHERE email_pending ORDER BY id LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE notifications n SET email_pending = false FROM claimed, users u
    WHERE n.id = claimed.id AND u.id = n.user_id
    RETURNING u.email_sealed, n.title, n.body, u.email_verified_at IS NOT NULL
    """
)


async def claim_news_mail(
    session: AsyncSession, limit: int
) -> tuple[int, list[tuple[bytes, str, str]]]:
    """Feed rows to be mailed too (a new insight), taken off the list: how many were taken,
    and (sealed address, subject, body) of those whose owner confirmed the address."""
    rows = (await session.execute(_CLAIM_NEWS_MAIL, {"limit": limit})).all()
    return len(rows), [(row[0], row[1], row[2]) for row in rows if row[3]]

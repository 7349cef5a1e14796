"""Firing due reminders and sending what they tell, run by the worker every minute.

Firing (`fire_due`) claims due reminders with SKIP LOCKED in one transaction: each occurrence
goes into the owner's feed and gets a delivery row per outbound channel (unique per occurrence
and channel), and the reminder moves on to its next occurrence. Several workers never fire
one occurrence twice; a worker that was down catches up on occurrences missed by less than
the grace window (only the latest of a repeating reminder), and lets older ones go.

Sending (`send_due`) claims pending deliveries, sends them outside any transaction, and
records each outcome: sent, or retried with exponential backoff, or failed after the last
attempt — visible at `GET /api/v1/reminders/deliveries`. An email or webhook may arrive more
than once if a worker dies between sending and recording (each carries its delivery id).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import httpx
import structlog
from py_vapid import Vapid02
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.config import RemindersSettings
from diarist.db.engine import Database
from diarist.kit.net import resolves_to_public
from diarist.reminders import repository as repo
from diarist.reminders.push import Subscription, push_request
from diarist.reminders.repository import ClaimedDelivery, DueReminder
from diarist.reminders.schedule import Schedule

_log = structlog.get_logger("diarist.reminders")
SIGNATURE_HEADER = "X-Diarist-Signature"
DELIVERY_HEADER = "X-Diarist-Delivery"
# A claimed delivery is someone's for this long; after it, another worker may send it.
_LEASE = timedelta(minutes=5)
_SEND_BATCH = 200

SendMail = Callable[[str, str, str], Awaitable[None]]


@dataclass
class FireReport:
    fired: int = 0
    missed: int = 0
    nudges_skipped: int = 0


def _quiet_until(preferences: dict[str, Any], at: datetime) -> datetime | None:
    """The end of the user's quiet hours if `at` falls inside them (their own zone)."""
    notifications = preferences.get("notifications") or {}
    quiet = notifications.get("quiet_hours")
    if not quiet:
        return None
    zone = str(preferences.get("timezone") or "UTC")
    start, end = clock_time.fromisoformat(quiet["start"]), clock_time.fromisoformat(quiet["end"])
    local = Schedule(at, zone, None).local(at)
    now_t = local.time()
    inside = start <= now_t < end if start <= end else (now_t >= start or now_t < end)
    if not inside or start == end:
        return None
    day = local.date() if now_t < end else local.date() + timedelta(days=1)
    schedule = Schedule(datetime.combine(day, end), zone, None)
    return schedule.instant(schedule.starts_local)


def _channels(item: DueReminder) -> list[str]:
    """The outbound channels of a firing (the feed is always told)."""
    chosen = item.reminder.channels
    if chosen is None:
        notifications = item.preferences.get("notifications") or {}
        chosen = notifications.get("reminder_channels") or ["app"]
    reachable = {"email": True, "webhook": item.has_webhook, "push": item.has_push}
    return [channel for channel, ok in reachable.items() if ok and channel in chosen]


async def fire_due(session: AsyncSession, settings: RemindersSettings, now: datetime) -> FireReport:
    """Fire one batch of due reminders (the system role's session; the caller commits)."""
    report = FireReport()
    grace = timedelta(minutes=settings.grace_minutes)
    feed: list[dict[str, Any]] = []
    outbound: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    for item in await repo.claim_due(session, now, settings.batch_size):
        reminder = item.reminder
        schedule = Schedule(reminder.starts_local, reminder.timezone, reminder.rrule)
        occurrences: list[datetime] = []
        snoozed = reminder.snoozed_until
        if snoozed is not None and snoozed <= now:
            if now - snoozed <= grace:
                occurrences.append(snoozed)
            snoozed = None
        next_at = reminder.next_at
        if next_at is not None and next_at <= now:
            latest, next_at = next_at, schedule.next_after(next_at)
            while next_at is not None and next_at <= now:  # missed while no worker ran
                report.missed += 1
                latest, next_at = next_at, schedule.next_after(next_at)
            if now - latest <= grace:
                occurrences.append(latest)
            else:
                report.missed += 1
        moved.append({"id": reminder.id, "next_at": next_at, "snoozed_until": snoozed,
                      "last_fired_at": now if occurrences else reminder.last_fired_at})  # fmt: skip
        for occurrence in occurrences:
            body = reminder.description
            if reminder.kind == "nudge":
                nudge = await _nudge(session, reminder.user_id, schedule, occurrence)
                if nudge is None:
                    report.nudges_skipped += 1
                    continue
                body = nudge
            report.fired += 1
            link = f"/entries/{reminder.entry_id}" if reminder.entry_id else "/reminders"
            feed.append({"user_id": reminder.user_id, "kind": reminder.kind,
                         "title": reminder.title, "body": body, "link": link,
                         "reminder_id": reminder.id, "occurrence_at": occurrence})  # fmt: skip
            send_at = _quiet_until(item.preferences, now) or now
            for channel in _channels(item):
                outbound.append({"user_id": reminder.user_id, "reminder_id": reminder.id,
                                 "occurrence_at": occurrence, "channel": channel,
                                 "status": "pending", "attempts": 0,
                                 "next_attempt_at": send_at})  # fmt: skip
    await repo.insert_notifications(session, feed)
    await repo.insert_deliveries(session, outbound)
    await repo.update_fired(session, moved)
    return report


async def _nudge(
    session: AsyncSession, user_id: uuid.UUID, schedule: Schedule, occurrence: datetime
) -> str | None:
    """A nudge's words, or None when the user already wrote that day (in its zone)."""
    day = schedule.local(occurrence).date()
    midnight = Schedule(datetime.combine(day, clock_time()), schedule.timezone, None)
    if await repo.written_since(session, user_id, midnight.instant(midnight.starts_local)):
        return None
    streak = await repo.current_streak(session, user_id, schedule.timezone)
    if streak >= 2:
        return f"You have written {streak} days in a row. A few lines today keep it going."
    return "You have not written today yet. A few lines are enough."


async def fire_all_due(
    database: Database, settings: RemindersSettings, now: datetime
) -> FireReport:
    """Fire batches until none is due (each batch its own transaction)."""
    total = FireReport()
    while True:
        async with database.unit_of_work() as session:
            report = await fire_due(session, settings, now)
        total.fired += report.fired
        total.missed += report.missed
        total.nudges_skipped += report.nudges_skipped
        if report.fired + report.missed + report.nudges_skipped == 0:
            return total


@dataclass(frozen=True)
class Senders:
    """How deliveries leave: the mailer's send, an HTTP client for webhooks and pushes, and
    the server's VAPID key and contact for pushes."""

    send_mail: SendMail
    http: httpx.AsyncClient
    vapid: Vapid02 | None = None
    vapid_subject: str = "mailto:diarist@localhost"


@dataclass
class _Sent:
    error: str | None
    # Push subscriptions their push service says are gone.
    gone: list[str] = field(default_factory=list)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Diarist-Signature` value: `t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _payload(delivery: ClaimedDelivery) -> dict[str, Any]:
    return {
        "type": delivery.kind,
        "delivery_id": str(delivery.id),
        "reminder_id": str(delivery.reminder_id),
        "title": delivery.title,
        "description": delivery.description,
        "occurrence_at": delivery.occurrence_at.astimezone(UTC).isoformat(),
        "entry_id": str(delivery.entry_id) if delivery.entry_id else None,
    }


async def _send_one(
    delivery: ClaimedDelivery, settings: RemindersSettings, senders: Senders
) -> _Sent:
    """Send one delivery; its error (None when it went; never diary text in it)."""
    try:
        if delivery.channel == "email":
            subject = f"Reminder: {delivery.title}"
            body = f"{delivery.title}\n\n{delivery.description}".rstrip() + "\n"
            await senders.send_mail(delivery.email, subject, body)
            return _Sent(None)
        if delivery.channel == "push":
            return await _push(delivery, settings, senders)
        return _Sent(await _post_webhook(delivery, settings, senders))
    except httpx.HTTPError as exc:
        return _Sent(f"the {delivery.channel} could not be reached ({type(exc).__name__})")
    except Exception as exc:
        return _Sent(f"{delivery.channel} failed ({type(exc).__name__})")


async def _allowed(url: str, settings: RemindersSettings) -> bool:
    return settings.allow_private_hosts or await resolves_to_public(url)


async def _post_webhook(
    delivery: ClaimedDelivery, settings: RemindersSettings, senders: Senders
) -> str | None:
    if delivery.webhook_url is None or delivery.webhook_secret is None:
        return "no webhook is set"
    if not await _allowed(delivery.webhook_url, settings):
        return "the webhook's host does not resolve to public addresses"
    body = json.dumps(_payload(delivery), separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(delivery.webhook_secret, int(time.time()), body),
        DELIVERY_HEADER: str(delivery.id),
    }
    response = await senders.http.post(
        delivery.webhook_url, content=body, headers=headers, timeout=settings.webhook_timeout_s
    )
    return None if response.is_success else f"the webhook answered {response.status_code}"


async def _push(delivery: ClaimedDelivery, settings: RemindersSettings, senders: Senders) -> _Sent:
    """To every browser of the user; it went if one push service took it."""
    if senders.vapid is None:
        return _Sent("web push is not set up on this worker")
    message = {"title": delivery.title, "body": delivery.description,
               "link": f"/entries/{delivery.entry_id}" if delivery.entry_id else "/reminders",
               "tag": str(delivery.reminder_id)}  # fmt: skip
    gone: list[str] = []
    answers: list[int] = []
    for found in delivery.subscriptions:
        subscription = Subscription(*found)
        if not await _allowed(subscription.endpoint, settings):
            answers.append(0)
            continue
        headers, body = push_request(senders.vapid, senders.vapid_subject, subscription, message)
        response = await senders.http.post(
            subscription.endpoint, content=body, headers=headers,
            timeout=settings.webhook_timeout_s,
        )  # fmt: skip
        if response.status_code in {404, 410}:
            gone.append(subscription.id)
        answers.append(response.status_code)
    if any(200 <= status < 300 for status in answers):
        return _Sent(None, gone)
    if not answers:
        return _Sent("no browser is subscribed", gone)
    return _Sent(f"the push services answered {sorted(set(answers))}", gone)


def _outcome(
    delivery: ClaimedDelivery, error: str | None, settings: RemindersSettings, now: datetime
) -> dict[str, Any]:
    """The delivery's row after a send: sent, failed for good, or pending after a backoff."""
    row = {"b_id": delivery.id, "b_status": "sent", "b_sent_at": now, "b_last_error": error,
           "b_next_attempt_at": now}  # fmt: skip
    if error is None:
        return row
    if delivery.attempts >= settings.max_attempts:
        return {**row, "b_status": "failed", "b_sent_at": None}
    backoff = settings.retry_base_s * 2 ** (delivery.attempts - 1)
    return {**row, "b_status": "pending", "b_sent_at": None,
            "b_next_attempt_at": now + timedelta(seconds=backoff)}  # fmt: skip


async def send_due(
    database: Database,
    settings: RemindersSettings,
    senders: Senders,
    clock: Callable[[], datetime],
) -> int:
    """Send every delivery due now, a batch at a time; how many were attempted."""
    attempted = 0
    gate = asyncio.Semaphore(settings.concurrency)

    async def send(delivery: ClaimedDelivery) -> tuple[dict[str, Any], list[str]]:
        async with gate:
            sent = await _send_one(delivery, settings, senders)
        if sent.error is not None:
            _log.info("delivery_failed", delivery_id=str(delivery.id), channel=delivery.channel,
                      attempts=delivery.attempts, error=sent.error)  # fmt: skip
        return _outcome(delivery, sent.error, settings, clock()), sent.gone

    while True:
        now = clock()
        async with database.unit_of_work() as session:
            claimed = await repo.claim_deliveries(session, now, now + _LEASE, _SEND_BATCH)
        if not claimed:
            return attempted
        results = await asyncio.gather(*(send(delivery) for delivery in claimed))
        async with database.unit_of_work() as session:
            await repo.finish_deliveries(session, [outcome for outcome, _ in results])
            await repo.delete_push_subscriptions(session, [i for _, gone in results for i in gone])
        attempted += len(claimed)


async def mail_news(database: Database, send_mail: SendMail) -> int:
    """Mail the feed's news that asks for it (a new insight for a user with `email_insights`),
    a batch at a time; each is taken off the list before it is sent (at most once: a failed
    send is logged, and the news stays in the feed). How many were sent."""
    sent = 0
    while True:
        async with database.unit_of_work() as session:
            claimed = await repo.claim_news_mail(session, _SEND_BATCH)
        if not claimed:
            return sent
        for to, subject, body in claimed:
            try:
                await send_mail(to, subject, body + "\n")
                sent += 1
            except Exception as exc:
                _log.warning("news_mail_failed", error=type(exc).__name__)

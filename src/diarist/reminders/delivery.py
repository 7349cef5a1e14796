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

from diarist.accounts.personal_data import USER_EMAIL, PersonalData
from diarist.config import RemindersSettings
from diarist.db.engine import Database
from diarist.kit.net import resolves_to_public
from diarist.models import Reminder
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
# A failed delivery waits at most this long before its next try.
_MAX_BACKOFF = timedelta(days=1)

SendMail = Callable[[str, str, str], Awaitable[None]]


@dataclass
class FireReport:
    claimed: int = 0
    fired: int = 0
    missed: int = 0
    nudges_skipped: int = 0
    failed: int = 0


def _quiet_until(preferences: dict[str, Any], at: datetime) -> datetime | None:
    """The end of the user's quiet hours if `at` falls inside them (their own zone)."""
    notifications = preferences.get("notifications") or {}
    quiet = notifications.get("quiet_hours")
    if not quiet:
        return None
    zone = str(preferences.get("timezone") or "UTC")
    # Wall-clock times (an offset, refused since, is dropped from one stored before).
    start, end = (
        clock_time.fromisoformat(quiet[name]).replace(tzinfo=None) for name in ("start", "end")
    )
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
    """Fire one batch of due reminders (the system role's session; the caller commits). A
    reminder whose schedule cannot be worked out is logged and tried again in an hour; the
    rest of the batch fires."""
    report = FireReport()
    grace = timedelta(minutes=settings.grace_minutes)
    feed: list[dict[str, Any]] = []
    outbound: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    claimed = await repo.claim_due(session, now, settings.batch_size)
    report.claimed = len(claimed)
    for item in claimed:
        reminder = item.reminder
        schedule = Schedule(reminder.starts_local, reminder.timezone, reminder.rrule)
        try:
            occurrences, next_at, snoozed = _occurrences(reminder, schedule, now, grace, report)
            send_at = _quiet_until(item.preferences, now) or now
            channels = _channels(item)
        except Exception as exc:
            report.failed += 1
            _log.error(
                "reminder_fire_failed", reminder_id=str(reminder.id), error=type(exc).__name__
            )
            later = now + timedelta(hours=1)
            moved.append({"id": reminder.id, "next_at": later, "snoozed_until": None,
                          "last_fired_at": reminder.last_fired_at})  # fmt: skip
            continue
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
            for channel in channels:
                outbound.append({"user_id": reminder.user_id, "reminder_id": reminder.id,
                                 "occurrence_at": occurrence, "channel": channel,
                                 "status": "pending", "attempts": 0,
                                 "next_attempt_at": send_at})  # fmt: skip
    await repo.insert_notifications(session, feed)
    await repo.insert_deliveries(session, outbound)
    await repo.update_fired(session, moved)
    return report


def _occurrences(
    reminder: Reminder, schedule: Schedule, now: datetime, grace: timedelta, report: FireReport
) -> tuple[list[datetime], datetime | None, datetime | None]:
    """What a due reminder fires now (a snooze that ended, its latest regular occurrence when
    within the grace window), its next occurrence after now, and its snooze left."""
    occurrences: list[datetime] = []
    snoozed = reminder.snoozed_until
    if snoozed is not None and snoozed <= now:
        if now - snoozed <= grace:
            occurrences.append(snoozed)
        else:
            report.missed += 1
        snoozed = None
    next_at = reminder.next_at
    if next_at is not None and next_at <= now:
        latest = max(next_at, schedule.latest_at_or_before(now) or next_at)
        if latest > next_at:  # some were missed while no worker ran
            report.missed += 1
        if now - latest <= grace:
            occurrences.append(latest)
        else:
            report.missed += 1
        next_at = schedule.next_after(now)
    return occurrences, next_at, snoozed


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
        for name in ("claimed", "fired", "missed", "nudges_skipped", "failed"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        if report.claimed < settings.batch_size:
            return total


@dataclass(frozen=True)
class Senders:
    """How deliveries leave: the mailer's send, an HTTP client for webhooks and pushes, what
    opens the sealed addresses, and the server's VAPID key and contact for pushes."""

    send_mail: SendMail
    http: httpx.AsyncClient
    personal: PersonalData
    vapid: Vapid02 | None = None
    vapid_subject: str = "mailto:diarist@localhost"


@dataclass
class _Sent:
    error: str | None
    # Push subscriptions their push service says are gone.
    gone: list[str] = field(default_factory=list)
    # Trying again cannot help.
    final: bool = False


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
        "description": delivery.body,
        "occurrence_at": delivery.occurrence_at.astimezone(UTC).isoformat(),
        "entry_id": str(delivery.entry_id) if delivery.entry_id else None,
    }


async def _send_one(
    delivery: ClaimedDelivery, settings: RemindersSettings, senders: Senders
) -> _Sent:
    """Send one delivery; its error (None when it went; never diary text in it)."""
    try:
        if delivery.channel == "email":
            if not delivery.email_confirmed:
                return _Sent("the address is not confirmed (confirm it in settings)", final=True)
            subject = "Reminder: " + " ".join(delivery.title.split())  # one header line
            body = f"{delivery.title}\n\n{delivery.body}".rstrip() + "\n"
            to = senders.personal.open(USER_EMAIL, delivery.email_sealed)
            await senders.send_mail(to, subject, body)
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
    message = {"title": delivery.title, "body": delivery.body,
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
    delivery: ClaimedDelivery, sent: _Sent, settings: RemindersSettings, now: datetime
) -> dict[str, Any]:
    """The delivery's row after a send: sent, failed for good, or pending after a backoff."""
    row = {"b_id": delivery.id, "b_attempts": delivery.attempts, "b_status": "sent",
           "b_sent_at": now, "b_last_error": sent.error, "b_next_attempt_at": now}  # fmt: skip
    if sent.error is None:
        return row
    if sent.final or delivery.attempts >= settings.max_attempts:
        return {**row, "b_status": "failed", "b_sent_at": None}
    exponent = min(delivery.attempts - 1, 30)
    backoff = min(timedelta(seconds=settings.retry_base_s * 2**exponent), _MAX_BACKOFF)
    return {**row, "b_status": "pending", "b_sent_at": None,
            "b_next_attempt_at": now + backoff}  # fmt: skip


async def send_due(
    database: Database,
    settings: RemindersSettings,
    senders: Senders,
    clock: Callable[[], datetime],
) -> int:
    """Send every delivery due now, a batch at a time; how many were attempted."""
    attempted = 0
    gate = asyncio.Semaphore(settings.concurrency)
    # A send gives up after this (a push to several browsers, a slow mail server) so that a
    # batch ends well inside its lease; a batch is a few rounds of the concurrency.
    deadline = 3 * settings.webhook_timeout_s
    batch = min(_SEND_BATCH, 4 * settings.concurrency)
    lease = max(_LEASE, timedelta(seconds=8 * deadline))

    async def send(delivery: ClaimedDelivery) -> tuple[dict[str, Any], list[str]]:
        async with gate:
            try:
                async with asyncio.timeout(deadline):
                    sent = await _send_one(delivery, settings, senders)
            except TimeoutError:
                sent = _Sent(f"the {delivery.channel} took longer than {deadline:g} s")
        if sent.error is not None:
            _log.info("delivery_failed", delivery_id=str(delivery.id), channel=delivery.channel,
                      attempts=delivery.attempts, error=sent.error)  # fmt: skip
        return _outcome(delivery, sent, settings, clock()), sent.gone

    while True:
        now = clock()
        async with database.unit_of_work() as session:
            claimed = await repo.claim_deliveries(session, now, now + lease, batch)
        if not claimed:
            return attempted
        results = await asyncio.gather(*(send(delivery) for delivery in claimed))
        async with database.unit_of_work() as session:
            await repo.finish_deliveries(session, [outcome for outcome, _ in results])
            await repo.delete_push_subscriptions(session, [i for _, gone in results for i in gone])
        attempted += len(claimed)


async def mail_news(database: Database, send_mail: SendMail, personal: PersonalData) -> int:
    """Mail the feed's news that asks for it (a new insight for a user with `email_insights`),
    a batch at a time; each is taken off the list before it is sent (at most once: a failed
    send is logged, and the news stays in the feed). How many were sent."""
    sent = 0
    while True:
        async with database.unit_of_work() as session:
            taken, confirmed = await repo.claim_news_mail(session, _SEND_BATCH)
        if not taken:
            return sent
        for to, subject, body in confirmed:
            try:
                await send_mail(personal.open(USER_EMAIL, to), subject, body + "\n")
                sent += 1
            except Exception as exc:
                _log.warning("news_mail_failed", error=type(exc).__name__)

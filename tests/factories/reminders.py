"""Rows in every reminders table for one user, through the domain's own functions (what the
scheduler writes included), for the tests that need every user-owned table filled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from diarist.config import RemindersSettings
from diarist.db.engine import act_as
from diarist.reminders import repository as reminders_repository
from diarist.reminders import service as reminders_service
from diarist.reminders.schemas import ReminderCreate


async def fill_reminders(session: AsyncSession, user_id: uuid.UUID) -> None:
    """A reminder, its occurrence in the feed and on the email channel, a webhook, a
    calendar feed and a browser's push subscription."""
    await act_as(session, user_id)
    now = datetime.now(UTC)
    body = ReminderCreate(title="Stretch", remind_at=now + timedelta(hours=1), timezone="UTC")
    reminder = await reminders_service.create_reminder(
        session, RemindersSettings(), user_id, body, now
    )
    occurrence = {"user_id": user_id, "reminder_id": reminder.id, "occurrence_at": now}
    await reminders_repository.insert_notifications(
        session, [{**occurrence, "kind": "reminder", "title": "Stretch", "body": ""}]
    )
    await reminders_repository.insert_deliveries(
        session, [{**occurrence, "channel": "email", "status": "pending", "next_attempt_at": now}]
    )
    await reminders_repository.put_webhook(session, user_id, "https://example.org/hook", "whsec_x")
    await reminders_service.create_calendar_feed(session, user_id)
    await reminders_repository.put_push_subscription(
        session, user_id, "https://push.example.org/x", "B" + "A" * 86, "A" * 22
    )

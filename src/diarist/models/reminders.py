"""Reminders and what they tell: a reminder's schedule (a wall-clock start in an IANA zone and
an optional RFC 5545 recurrence rule), each occurrence's delivery to a channel (one row per
occurrence and channel: the key that makes delivery happen once), the in-app notification
feed, the user's webhook, browsers' push subscriptions and the calendar feed's token
(docs/reminders.md)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from diarist.models.base import Base, Timestamps, UUIDv7PrimaryKey, in_list, same_user_fk, user_fk

REMINDER_KINDS = ("reminder", "nudge")
# In-app (the notification feed), email, the user's webhook, web push to their browsers.
CHANNELS = ("app", "email", "webhook", "push")
OUTBOUND_CHANNELS = ("email", "webhook", "push")
DELIVERY_STATES = ("pending", "sending", "sent", "failed")
NOTIFICATION_KINDS = ("reminder", "nudge", "system")


class Reminder(UUIDv7PrimaryKey, Timestamps, Base):
    """What to be reminded of and when. `next_at` is the next occurrence still to fire
    (NULL: none left), `snoozed_until` an extra firing the user asked for; `due_at`, the
    earlier of the two, is what the scheduler reads (a partial index of the live ones)."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("user_id", "id", name="uq_reminders_user_id_id"),
        CheckConstraint("length(title) BETWEEN 1 AND 200", name="title_length"),
        CheckConstraint("length(description) <= 5000", name="description_length"),
        CheckConstraint("priority BETWEEN 1 AND 5", name="priority"),
        CheckConstraint(in_list("kind", REMINDER_KINDS), name="kind"),
        CheckConstraint("length(rrule) BETWEEN 1 AND 500", name="rrule_length"),
        CheckConstraint("is_completed = (completed_at IS NOT NULL)", name="completed_at"),
        CheckConstraint(
            "channels <@ ARRAY['app', 'email', 'webhook', 'push']::text[]", name="channels_known"
        ),
        ForeignKeyConstraint(
            ["user_id", "entry_id"],
            ["entries.user_id", "entries.id"],
            name="fk_reminders_entry",
            ondelete="SET NULL (entry_id)",
        ),
        Index(
            "ix_reminders_due_at",
            "due_at",
            postgresql_where=text("NOT is_completed AND due_at IS NOT NULL"),
        ),
        Index("ix_reminders_user_id_due_at", "user_id", "due_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, server_default="")
    priority: Mapped[int] = mapped_column(SmallInteger, server_default="2")
    # A nudge fires only on a day the user has not written yet (with their streak).
    kind: Mapped[str] = mapped_column(Text, server_default="reminder")
    timezone: Mapped[str] = mapped_column(Text)
    # The first occurrence as wall-clock time in `timezone` (the recurrence's DTSTART).
    starts_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    rrule: Mapped[str | None] = mapped_column(Text)
    next_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), Computed("LEAST(next_at, snoozed_until)", persisted=True)
    )
    last_fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_completed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # NULL: the channels of the user's notification preferences when it fires.
    channels: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    # "Follow up on this": the entry it is about (unlinked if the entry is purged).
    entry_id: Mapped[uuid.UUID | None] = mapped_column()


class ReminderDelivery(UUIDv7PrimaryKey, Base):
    """One occurrence of a reminder on one outbound channel: made once (the unique key), sent
    by whichever worker claims it, retried with backoff, its failures kept in view."""

    __tablename__ = "reminder_deliveries"
    __table_args__ = (
        same_user_fk("reminder_deliveries", "reminder_id", "reminders", "reminder"),
        UniqueConstraint(
            "reminder_id", "occurrence_at", "channel", name="uq_reminder_deliveries_occurrence"
        ),
        CheckConstraint(in_list("channel", OUTBOUND_CHANNELS), name="channel"),
        CheckConstraint(in_list("status", DELIVERY_STATES), name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name="sent_at"),
        Index(
            "ix_reminder_deliveries_next_attempt_at",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
        Index("ix_reminder_deliveries_user_id_id", "user_id", "id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    reminder_id: Mapped[uuid.UUID] = mapped_column()
    occurrence_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    channel: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    # When it may be sent (again): now, after quiet hours, or after a failure's backoff.
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Notification(UUIDv7PrimaryKey, Base):
    """A line in the user's notification feed (the in-app channel)."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(in_list("kind", NOTIFICATION_KINDS), name="kind"),
        CheckConstraint("length(title) BETWEEN 1 AND 200", name="title_length"),
        CheckConstraint("length(body) <= 5000", name="body_length"),
        ForeignKeyConstraint(
            ["user_id", "reminder_id"],
            ["reminders.user_id", "reminders.id"],
            name="fk_notifications_reminder",
            ondelete="SET NULL (reminder_id)",
        ),
        # An occurrence is in the feed once, however many workers fired it; other news once.
        UniqueConstraint("reminder_id", "occurrence_at", name="uq_notifications_occurrence"),
        UniqueConstraint("user_id", "source", name="uq_notifications_user_id_source"),
        Index("ix_notifications_email_pending", "id", postgresql_where=text("email_pending")),
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index(
            "ix_notifications_unread",
            "user_id",
            postgresql_where=text("read_at IS NULL"),
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    kind: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, server_default="")
    # A path in the web app to open (the reminder's entry, the reminders page).
    link: Mapped[str | None] = mapped_column(Text)
    reminder_id: Mapped[uuid.UUID | None] = mapped_column()
    occurrence_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What other news this is ("analysed:<entry>:<version>", "insight:<id>"): told once.
    source: Mapped[str | None] = mapped_column(Text)
    # To be mailed too (a new insight for a user with `email_insights`).
    email_pending: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotificationWebhook(UUIDv7PrimaryKey, Base):
    """The user's webhook: notifications POSTed as JSON, signed with HMAC-SHA256 under its
    secret (kept to sign with; shown to the user once)."""

    __tablename__ = "notification_webhooks"
    __table_args__ = (
        UniqueConstraint("user_id", name="uq_notification_webhooks_user_id"),
        CheckConstraint("length(url) BETWEEN 8 AND 2000", name="url_length"),
        CheckConstraint("url ~ '^https?://'", name="url_scheme"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CalendarFeed(UUIDv7PrimaryKey, Base):
    """The user's private iCalendar feed of reminders: its URL carries a token, of which only
    the SHA-256 is kept; a new one replaces it, deleting it revokes the URL."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (
        UniqueConstraint("user_id", name="uq_calendar_feeds_user_id"),
        Index("uq_calendar_feeds_token_hash", "token_hash", unique=True),
        CheckConstraint("octet_length(token_hash) = 32", name="token_hash_length"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    token_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PushSubscription(UUIDv7PrimaryKey, Base):
    """A browser's Web Push subscription (its push service's endpoint and the keys to encrypt
    for it, RFC 8291); removed when the push service says it is gone."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (
        UniqueConstraint("user_id", "endpoint", name="uq_push_subscriptions_user_id_endpoint"),
        CheckConstraint("length(endpoint) BETWEEN 12 AND 2000", name="endpoint_length"),
        CheckConstraint("length(p256dh) BETWEEN 80 AND 100", name="p256dh_length"),
        CheckConstraint("length(auth) BETWEEN 16 AND 32", name="auth_length"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    endpoint: Mapped[str] = mapped_column(Text)
    # The browser's P-256 public key and auth secret, base64url as the browser gives them.
    p256dh: Mapped[str] = mapped_column(Text)
    auth: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

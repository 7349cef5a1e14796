"""reminders: reminders with a wall-clock start in an IANA zone and an RFC 5545 rule,
deliveries (one row per occurrence and outbound channel), the notification feed, the user's
webhook, the private calendar feed's token and browsers' push subscriptions; owner-only RLS
on each, the SECURITY DEFINER lookup of a calendar feed's owner by its token, and the
triggers that tell the feed of analysed entries and new insights when the user asks

Revision ID: 0025_reminders
Revises: 0024_user_identities
Create Date: 2026-12-05 00:30:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from diarist.db.rls import disable_owner_rls, enable_owner_rls
from diarist.db.sql import read_sql

revision: str = "0025_reminders"
down_revision: str | None = "0024_user_identities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = (
    "reminders",
    "reminder_deliveries",
    "notifications",
    "notification_webhooks",
    "calendar_feeds",
    "push_subscriptions",
)
_CREATE = (
    """
CREATE TABLE calendar_feeds (
    user_id UUID NOT NULL,
    token_hash BYTEA NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    id UUID DEFAULT uuidv7() NOT NULL,
    CONSTRAINT pk_calendar_feeds PRIMARY KEY (id),
    CONSTRAINT uq_calendar_feeds_user_id UNIQUE (user_id),
    CONSTRAINT ck_calendar_feeds_token_hash_length CHECK (octet_length(token_hash) = 32),
    CONSTRAINT fk_calendar_feeds_user_id_users FOREIGN KEY(user_id)
        REFERENCES users (id) ON DELETE CASCADE
)
    """,
    "CREATE UNIQUE INDEX uq_calendar_feeds_token_hash ON calendar_feeds (token_hash)",
    """
CREATE TABLE push_subscriptions (
    user_id UUID NOT NULL,
    endpoint TEXT NOT NULL,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    id UUID DEFAULT uuidv7() NOT NULL,
    CONSTRAINT pk_push_subscriptions PRIMARY KEY (id),
    CONSTRAINT uq_push_subscriptions_user_id_endpoint UNIQUE (user_id, endpoint),
    CONSTRAINT ck_push_subscriptions_endpoint_length
        CHECK (length(endpoint) BETWEEN 12 AND 2000),
    CONSTRAINT ck_push_subscriptions_p256dh_length CHECK (length(p256dh) BETWEEN 80 AND 100),
    CONSTRAINT ck_push_subscriptions_auth_length CHECK (length(auth) BETWEEN 16 AND 32),
    CONSTRAINT fk_push_subscriptions_user_id_users FOREIGN KEY(user_id)
        REFERENCES users (id) ON DELETE CASCADE
)
    """,
    """
CREATE TABLE reminders (
    user_id UUID NOT NULL,
    title TEXT NOT NULL,
    description TEXT DEFAULT '' NOT NULL,
    priority SMALLINT DEFAULT '2' NOT NULL,
    kind TEXT DEFAULT 'reminder' NOT NULL,
    timezone TEXT NOT NULL,
    starts_local TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    rrule TEXT,
    next_at TIMESTAMP WITH TIME ZONE,
    snoozed_until TIMESTAMP WITH TIME ZONE,
    due_at TIMESTAMP WITH TIME ZONE GENERATED ALWAYS AS (LEAST(next_at, snoozed_until)) STORED,
    last_fired_at TIMESTAMP WITH TIME ZONE,
    is_completed BOOLEAN DEFAULT false NOT NULL,
    completed_at TIMESTAMP WITH TIME ZONE,
    channels TEXT[],
    entry_id UUID,
    id UUID DEFAULT uuidv7() NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_reminders PRIMARY KEY (id),
    CONSTRAINT uq_reminders_user_id_id UNIQUE (user_id, id),
    CONSTRAINT ck_reminders_title_length CHECK (length(title) BETWEEN 1 AND 200),
    CONSTRAINT ck_reminders_description_length CHECK (length(description) <= 5000),
    CONSTRAINT ck_reminders_priority CHECK (priority BETWEEN 1 AND 5),
    CONSTRAINT ck_reminders_kind CHECK (kind IN ('reminder', 'nudge')),
    CONSTRAINT ck_reminders_rrule_length CHECK (length(rrule) BETWEEN 1 AND 500),
    CONSTRAINT ck_reminders_completed_at CHECK (is_completed = (completed_at IS NOT NULL)),
    CONSTRAINT ck_reminders_channels_known
        CHECK (channels <@ ARRAY['app', 'email', 'webhook', 'push']::text[]),
    CONSTRAINT fk_reminders_entry FOREIGN KEY(user_id, entry_id)
        REFERENCES entries (user_id, id) ON DELETE SET NULL (entry_id),
    CONSTRAINT fk_reminders_user_id_users FOREIGN KEY(user_id)
        REFERENCES users (id) ON DELETE CASCADE
)
    """,
    """
CREATE INDEX ix_reminders_due_at ON reminders (due_at) WHERE NOT is_completed AND due_at IS NOT NULL
    """,
    """
CREATE INDEX ix_reminders_user_id_due_at ON reminders (user_id, due_at)
    """,
    """
CREATE TABLE reminder_deliveries (
    user_id UUID NOT NULL,
    reminder_id UUID NOT NULL,
    occurrence_at TIMESTAMP WITH TIME ZONE NOT NULL,
    channel TEXT NOT NULL,
    status TEXT DEFAULT 'pending' NOT NULL,
    attempts INTEGER DEFAULT '0' NOT NULL,
    next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL,
    last_error TEXT,
    sent_at TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    id UUID DEFAULT uuidv7() NOT NULL,
    CONSTRAINT pk_reminder_deliveries PRIMARY KEY (id),
    CONSTRAINT fk_reminder_deliveries_reminder FOREIGN KEY(user_id, reminder_id)
        REFERENCES reminders (user_id, id) ON DELETE CASCADE,
    CONSTRAINT uq_reminder_deliveries_occurrence UNIQUE (reminder_id, occurrence_at, channel),
    CONSTRAINT ck_reminder_deliveries_channel CHECK (channel IN ('email', 'webhook', 'push')),
    CONSTRAINT ck_reminder_deliveries_status
        CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    CONSTRAINT ck_reminder_deliveries_attempts CHECK (attempts >= 0),
    CONSTRAINT ck_reminder_deliveries_sent_at CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
    CONSTRAINT fk_reminder_deliveries_user_id_users FOREIGN KEY(user_id)
        REFERENCES users (id) ON DELETE CASCADE
)
    """,
    """
CREATE INDEX ix_reminder_deliveries_next_attempt_at ON reminder_deliveries (next_attempt_at)
        WHERE status IN ('pending', 'sending')
    """,
    """
CREATE INDEX ix_reminder_deliveries_user_id_id ON reminder_deliveries (user_id, id)
    """,
    """
CREATE TABLE notifications (
    user_id UUID NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT DEFAULT '' NOT NULL,
    link TEXT,
    reminder_id UUID,
    occurrence_at TIMESTAMP WITH TIME ZONE,
    source TEXT,
    email_pending BOOLEAN DEFAULT false NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    read_at TIMESTAMP WITH TIME ZONE,
    id UUID DEFAULT uuidv7() NOT NULL,
    CONSTRAINT pk_notifications PRIMARY KEY (id),
    CONSTRAINT ck_notifications_kind CHECK (kind IN ('reminder', 'nudge', 'system')),
    CONSTRAINT ck_notifications_title_length CHECK (length(title) BETWEEN 1 AND 200),
    CONSTRAINT ck_notifications_body_length CHECK (length(body) <= 5000),
    CONSTRAINT fk_notifications_reminder FOREIGN KEY(user_id, reminder_id)
        REFERENCES reminders (user_id, id) ON DELETE SET NULL (reminder_id),
    CONSTRAINT uq_notifications_occurrence UNIQUE (reminder_id, occurrence_at),
    CONSTRAINT uq_notifications_user_id_source UNIQUE (user_id, source),
    CONSTRAINT fk_notifications_user_id_users FOREIGN KEY(user_id)
        REFERENCES users (id) ON DELETE CASCADE
)
    """,
    "CREATE INDEX ix_notifications_email_pending ON notifications (id) WHERE email_pending",
    """
CREATE INDEX ix_notifications_unread ON notifications (user_id) WHERE read_at IS NULL
    """,
    """
CREATE INDEX ix_notifications_user_id_id ON notifications (user_id, id)
    """,
    """
CREATE TABLE notification_webhooks (
    user_id UUID NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    id UUID DEFAULT uuidv7() NOT NULL,
    CONSTRAINT pk_notification_webhooks PRIMARY KEY (id),
    CONSTRAINT uq_notification_webhooks_user_id UNIQUE (user_id),
    CONSTRAINT ck_notification_webhooks_url_length CHECK (length(url) BETWEEN 8 AND 2000),
    CONSTRAINT ck_notification_webhooks_url_scheme CHECK (url ~ '^https?://'),
    CONSTRAINT fk_notification_webhooks_user_id_users FOREIGN KEY(user_id)
        REFERENCES users (id) ON DELETE CASCADE
)
    """,
)


def upgrade() -> None:
    for statement in _CREATE:
        op.execute(statement)
    for table in _TABLES:
        for statement in enable_owner_rls(table):
            op.execute(statement)
    op.execute(read_sql("reminders/calendar_feed_owner.sql"))
    op.execute(read_sql("reminders/notify_news.sql"))


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS insights_notify_new ON insights")
    op.execute("DROP TRIGGER IF EXISTS entries_notify_analysed ON entries")
    op.execute("DROP FUNCTION IF EXISTS notify_new_insight()")
    op.execute("DROP FUNCTION IF EXISTS notify_entry_analysed()")
    op.execute("DROP FUNCTION IF EXISTS calendar_feed_owner(bytea)")
    for table in reversed(_TABLES):
        for statement in disable_owner_rls(table):
            op.execute(statement)
        op.execute(f"DROP TABLE {table}")

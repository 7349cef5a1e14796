"""Request and response shapes of reminders and notifications (docs/reminders.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from diarist.kit.validation import StrictInput, time_zones

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=5000)]
Priority = Annotated[int, Field(ge=1, le=5)]
Channel = Literal["app", "email", "webhook", "push"]
Preset = Literal["daily", "weekdays", "weekly", "monthly"]
Rule = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


def _plausible(value: datetime | None) -> datetime | None:
    """A time a reminder can use: years 1900 to 9000 (date arithmetic stays in range)."""
    if value is not None and not 1900 <= value.year <= 9000:
        raise ValueError("a year between 1900 and 9000")
    return value


When = Annotated[datetime, AfterValidator(_plausible)]
# A reminder fires at most this far ahead; an upcoming window spans at most a year.
MAX_AHEAD_DAYS = 366 * 10
MAX_WINDOW_DAYS = 366


class _Schedule(StrictInput):
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and value not in time_zones():
            raise ValueError("not an IANA time zone (e.g. Europe/Berlin)")
        return value

    @field_validator("channels", check_fields=False)
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("each channel once")
        return value


class ReminderCreate(_Schedule):
    title: Title
    description: Description = ""
    priority: Priority = 2
    kind: Literal["reminder", "nudge"] = "reminder"
    # With an offset: that instant. Without: wall-clock time in `timezone` (default: mine).
    remind_at: When
    repeat: Preset | None = None
    rrule: Rule | None = None
    # None: the channels of my notification preferences when it fires.
    channels: list[Channel] | None = Field(default=None, max_length=4)
    entry_id: uuid.UUID | None = None


# What a change may leave out but not set to null (a null would read as "clear it").
_NOT_NULL = {"title", "description", "priority", "kind", "remind_at", "timezone", "repeat",
             "rrule", "once", "is_completed"}  # fmt: skip


class ReminderPatch(_Schedule):
    title: Title | None = None
    description: Description | None = None
    priority: Priority | None = None
    kind: Literal["reminder", "nudge"] | None = None
    remind_at: When | None = None
    repeat: Preset | None = None
    rrule: Rule | None = None
    # true: repeats no more (clears `rrule`); use with neither `repeat` nor `rrule`.
    once: bool | None = None
    channels: list[Channel] | None = Field(default=None, max_length=4)
    entry_id: uuid.UUID | None = None
    # Completed iff it has a completion time (the seed's rule): both, or reopening with false.
    is_completed: bool | None = None
    completed_at: When | None = None

    @model_validator(mode="after")
    def _completion(self) -> ReminderPatch:
        nulls = sorted(
            name for name in self.model_fields_set & _NOT_NULL if getattr(self, name) is None
        )
        if nulls:
            raise ValueError(
                f"{', '.join(nulls)}: leave out what stays; null only clears entry_id and"
                " channels (`once: true` stops repeating)"
            )
        if self.is_completed is True and self.completed_at is None:
            raise ValueError("a completed reminder has a completed_at")
        if self.completed_at is not None and self.is_completed is not True:
            raise ValueError("completed_at is set only with is_completed: true")
        if self.completed_at is not None and self.completed_at.tzinfo is None:
            raise ValueError("completed_at needs a UTC offset")
        return self


class SnoozeIn(StrictInput):
    """Fire again after `minutes`, or at `until` (one of them)."""

    minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] | None = None
    until: When | None = None

    @model_validator(mode="after")
    def _one(self) -> SnoozeIn:
        if (self.minutes is None) == (self.until is None):
            raise ValueError("give `minutes` or `until`")
        if self.until is not None and self.until.tzinfo is None:
            raise ValueError("`until` needs a UTC offset")
        return self


class ReminderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    description: str
    priority: int
    kind: str
    timezone: str
    # The first occurrence as wall-clock time in `timezone`.
    starts_local: datetime
    rrule: str | None
    next_at: datetime | None
    snoozed_until: datetime | None
    due_at: datetime | None
    last_fired_at: datetime | None
    is_completed: bool
    completed_at: datetime | None
    channels: list[str] | None
    entry_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class ReminderPage(BaseModel):
    items: list[ReminderOut]
    next_cursor: str | None


class ListQuery(StrictInput):
    status: Literal["active", "completed", "all"] = "active"
    cursor: Annotated[str, Field(max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class UpcomingQuery(StrictInput):
    """A window of occurrences: [start, end), start default now, end default a week later."""

    start: When | None = None
    end: When | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 200

    @model_validator(mode="after")
    def _offsets(self) -> UpcomingQuery:
        for value in (self.start, self.end):
            if value is not None and value.tzinfo is None:
                raise ValueError("start and end need a UTC offset")
        return self


class OccurrenceOut(BaseModel):
    reminder_id: uuid.UUID
    title: str
    kind: str
    at: datetime
    # The same instant in the reminder's zone, with its offset.
    local: datetime
    snoozed: bool


class UpcomingOut(BaseModel):
    start: datetime
    end: datetime
    items: list[OccurrenceOut]


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    reminder_id: uuid.UUID
    occurrence_at: datetime
    channel: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None


class DeliveryQuery(StrictInput):
    status: Literal["pending", "sending", "sent", "failed"] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    title: str
    body: str
    link: str | None
    reminder_id: uuid.UUID | None
    occurrence_at: datetime | None
    created_at: datetime
    read_at: datetime | None


class NotificationQuery(StrictInput):
    unread: bool = False
    cursor: Annotated[str, Field(max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None
    # Counted up to 1,000.
    unread: int


class ReadAllOut(BaseModel):
    marked: int


class WebhookIn(StrictInput):
    # Printable ASCII (a host in another script is given in its xn-- form).
    url: Annotated[str, Field(min_length=8, max_length=2000, pattern=r"^https?://[!-~]+$")]

    @field_validator("url")
    @classmethod
    def _has_host(cls, value: str) -> str:
        try:
            host = urlsplit(value).hostname
        except ValueError:
            host = None
        if not host:
            raise ValueError("a URL with a host")
        return value


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    url: str
    created_at: datetime


class WebhookCreatedOut(WebhookOut):
    # Shown once: the key of the `X-Diarist-Signature` HMAC-SHA256 of each delivery.
    secret: str


class EntryMade(BaseModel):
    entry_id: uuid.UUID


class CalendarFeedOut(BaseModel):
    # Secret: whoever has it reads my reminders' titles and times.
    url: str


class PushKeys(StrictInput):
    # base64url as PushSubscription.toJSON() gives them: a P-256 point and a 16-byte secret.
    p256dh: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{86,88}={0,2}$")]
    auth: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{21,24}={0,2}$")]


class PushSubscriptionIn(StrictInput):
    """A browser's `PushSubscription.toJSON()` (its `expirationTime` is ignored)."""

    endpoint: Annotated[str, Field(min_length=12, max_length=2000, pattern=r"^https?://[!-~]+$")]
    keys: PushKeys
    expirationTime: int | None = None


class PushSubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    endpoint: str
    created_at: datetime


class PushKeyOut(BaseModel):
    # The `applicationServerKey` to subscribe with (base64url P-256 point).
    public_key: str

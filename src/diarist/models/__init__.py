"""Every ORM table of diarist, one module per aggregate, re-exported here for Alembic."""

from diarist.models.accounts import (
    AuthCode,
    AuthThrottle,
    AuthToken,
    SecurityEvent,
    User,
    UserIdentity,
)
from diarist.models.analysis import EntryEmbedding, EntryTopic, ProcessedContent, Topic
from diarist.models.attachments import Attachment, AttachmentBlob
from diarist.models.audit import AuditEntry
from diarist.models.base import Base, Timestamps, UUIDv7PrimaryKey
from diarist.models.imports import Import
from diarist.models.insights import Insight, StatsDay, StatsDaySubject, StatsDirtyDay
from diarist.models.journal import (
    Entry,
    EntryRevision,
    EntryTag,
    Tag,
    TagRelationship,
    UserWord,
    VocabularyChange,
)
from diarist.models.reminders import (
    CalendarFeed,
    Notification,
    NotificationWebhook,
    PushSubscription,
    Reminder,
    ReminderDelivery,
)
from diarist.models.vault import SecretTag, VaultBlob, VaultLogin, VaultSession, VaultWrappedKey

__all__ = [
    "Attachment",
    "AttachmentBlob",
    "AuditEntry",
    "AuthCode",
    "AuthThrottle",
    "AuthToken",
    "Base",
    "CalendarFeed",
    "Entry",
    "EntryEmbedding",
    "EntryRevision",
    "EntryTag",
    "EntryTopic",
    "Import",
    "Insight",
    "Notification",
    "NotificationWebhook",
    "ProcessedContent",
    "PushSubscription",
    "Reminder",
    "ReminderDelivery",
    "SecretTag",
    "SecurityEvent",
    "StatsDay",
    "StatsDaySubject",
    "StatsDirtyDay",
    "Tag",
    "TagRelationship",
    "Timestamps",
    "Topic",
    "UUIDv7PrimaryKey",
    "User",
    "UserIdentity",
    "UserWord",
    "VaultBlob",
    "VaultLogin",
    "VaultSession",
    "VaultWrappedKey",
    "VocabularyChange",
]

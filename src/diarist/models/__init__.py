"""Every ORM table of diarist, one module per aggregate, re-exported here for Alembic."""

from diarist.models.accounts import AuthCode, AuthThrottle, AuthToken, SecurityEvent, User
from diarist.models.analysis import EntryEmbedding, ProcessedContent
from diarist.models.base import Base, Timestamps, UUIDv7PrimaryKey
from diarist.models.journal import Entry, EntryRevision, EntryTag, Tag, TagRelationship, UserWord

__all__ = [
    "AuthCode",
    "AuthThrottle",
    "AuthToken",
    "Base",
    "Entry",
    "EntryEmbedding",
    "EntryRevision",
    "EntryTag",
    "ProcessedContent",
    "SecurityEvent",
    "Tag",
    "TagRelationship",
    "Timestamps",
    "UUIDv7PrimaryKey",
    "User",
    "UserWord",
]

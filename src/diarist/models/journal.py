"""The journal: entries, their revisions, tags and how they relate, and the typo vocabulary."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, REGCONFIG, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from diarist.models.base import Base, UUIDv7PrimaryKey, in_list, same_user_fk, user_fk

ENTRY_TYPES = ("text", "voice", "photo", "mixed")
ENTRY_FORMATS = ("markdown", "editorjs", "text", "json")
VISIBILITIES = ("private", "shared", "public")
PROCESSING_STATUSES = ("pending", "processing", "completed", "failed")
TAG_RELATIONS = ("synonym", "related", "excludes")

SEARCH_VECTOR = (
    "setweight(to_tsvector(search_config, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector(search_config, content), 'B')"
)


class Entry(UUIDv7PrimaryKey, Base):
    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("user_id", "id", name="uq_entries_user_id_id"),
        CheckConstraint("length(title) <= 500", name="title_length"),
        CheckConstraint(in_list("format", ENTRY_FORMATS), name="format"),
        CheckConstraint(in_list("entry_type", ENTRY_TYPES), name="entry_type"),
        CheckConstraint(in_list("visibility", VISIBILITIES), name="visibility"),
        CheckConstraint(
            in_list("processing_status", PROCESSING_STATUSES), name="processing_status"
        ),
        CheckConstraint("mood_rating BETWEEN 1 AND 10", name="mood_rating"),
        CheckConstraint("jsonb_typeof(raw_data) = 'object'", name="raw_data_object"),
        CheckConstraint("jsonb_typeof(metadata) = 'object'", name="metadata_object"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("word_count >= 0", name="word_count"),
        CheckConstraint("published_at IS NULL OR visibility <> 'private'", name="published_shared"),
        CheckConstraint(
            "(import_source IS NULL) = (import_id IS NULL)"
            " AND (import_id IS NULL) = (import_hash IS NULL)",
            name="import_origin_whole",
        ),
        # The timeline, newest first by either date, live entries only.
        Index(
            "ix_entries_timeline_entry_date",
            "user_id",
            text("entry_date DESC"),
            text("id DESC"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_entries_timeline_created_at",
            "user_id",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_entries_trash",
            "user_id",
            "deleted_at",
            postgresql_where=text("deleted_at IS NOT NULL"),
        ),
        # Keyword search is always within one user's entries: the user's postings only
        # (btree_gin), not a match across everyone's then a filter.
        Index(
            "ix_entries_user_id_search_vector", "user_id", "search_vector", postgresql_using="gin"
        ),
        Index(
            "uq_entries_idempotency_key",
            "user_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        # An imported entry, by the source's own id: importing the same file again updates it.
        Index(
            "uq_entries_user_id_import_source_import_id",
            "user_id",
            "import_source",
            "import_id",
            unique=True,
            postgresql_where=text("import_id IS NOT NULL"),
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    title: Mapped[str | None] = mapped_column(Text)
    raw_data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    format: Mapped[str] = mapped_column(Text)
    # Plain text derived from raw_data: what search, word count and analysis read.
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[bytes] = mapped_column(LargeBinary)
    entry_type: Mapped[str] = mapped_column(Text, server_default="text")
    meta: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )
    mood_rating: Mapped[int | None] = mapped_column(SmallInteger)
    entry_date: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    timezone: Mapped[str] = mapped_column(Text, server_default="UTC")
    visibility: Mapped[str] = mapped_column(Text, server_default="private")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    starred: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    pinned: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    processing_status: Mapped[str] = mapped_column(Text, server_default="pending")
    # Analysis bookkeeping, written by the worker; never part of the user's version.
    analysis_requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    analysis_attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    analysis_error: Mapped[str | None] = mapped_column(Text)
    analyzed_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    word_count: Mapped[int] = mapped_column(Integer, server_default="0")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    search_config: Mapped[str] = mapped_column(
        REGCONFIG, server_default=text("'english'::regconfig")
    )
    # Only PostgreSQL reads it: never loaded into Python (a page would carry every vector).
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed(SEARCH_VECTOR, persisted=True), deferred=True
    )
    idempotency_key: Mapped[str | None] = mapped_column(Text)
    idempotency_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Where an imported entry came from: the importer ("dayone", "jrnl", ...), the source's own
    # id, and a digest of what was imported (to tell a changed entry from an unchanged one).
    import_source: Mapped[str | None] = mapped_column(Text)
    import_id: Mapped[str | None] = mapped_column(Text)
    import_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EntryRevision(UUIDv7PrimaryKey, Base):
    """The title and raw_data an entry had before a change, by the version they belonged to."""

    __tablename__ = "entry_revisions"
    __table_args__ = (
        same_user_fk("entry_revisions", "entry_id", "entries", "entry"),
        UniqueConstraint("entry_id", "version", name="uq_entry_revisions_entry_id_version"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    entry_id: Mapped[uuid.UUID] = mapped_column()
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    raw_data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Tag(UUIDv7PrimaryKey, Base):
    __tablename__ = "tags"
    __table_args__ = (
        UniqueConstraint("user_id", "id", name="uq_tags_user_id_id"),
        ForeignKeyConstraint(
            ["user_id", "parent_id"],
            ["tags.user_id", "tags.id"],
            name="fk_tags_parent",
            ondelete="SET NULL (parent_id)",
        ),
        CheckConstraint("length(name) BETWEEN 1 AND 64", name="name_length"),
        CheckConstraint("color ~ '^#[0-9a-f]{6}$'", name="color"),
        CheckConstraint("length(icon) <= 32", name="icon_length"),
        CheckConstraint("length(description) <= 500", name="description_length"),
        CheckConstraint("usage_count >= 0", name="usage_count"),
        CheckConstraint("parent_id <> id", name="not_own_parent"),
        Index("uq_tags_user_id_name_key", "user_id", "name_key", unique=True),
        Index("ix_tags_parent_id", "parent_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    name: Mapped[str] = mapped_column(Text)
    # PostgreSQL's lower(), not Python's: the two disagree on some letters (İ, final sigma).
    name_key: Mapped[str] = mapped_column(Text, Computed("lower(name)", persisted=True))
    color: Mapped[str | None] = mapped_column(Text)
    icon: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[uuid.UUID | None] = mapped_column()
    usage_count: Mapped[int] = mapped_column(Integer, server_default="0")
    # Applied by the analysis when it suggests this tag with confidence (seed 000: auto_rule).
    auto_apply: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TagRelationship(UUIDv7PrimaryKey, Base):
    __tablename__ = "tag_relationships"
    __table_args__ = (
        same_user_fk("tag_relationships", "tag_id", "tags", "tag"),
        same_user_fk("tag_relationships", "related_tag_id", "tags", "related"),
        CheckConstraint(in_list("kind", TAG_RELATIONS), name="kind"),
        CheckConstraint("strength >= 0 AND strength <= 1", name="strength"),
        CheckConstraint("tag_id <> related_tag_id", name="no_self_link"),
        UniqueConstraint("tag_id", "related_tag_id", "kind", name="uq_tag_relationships_link"),
        Index("ix_tag_relationships_related_tag_id", "related_tag_id"),
    )  # fmt: skip

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    tag_id: Mapped[uuid.UUID] = mapped_column()
    related_tag_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[str] = mapped_column(Text)
    strength: Mapped[float] = mapped_column(Numeric(3, 2), server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EntryTag(Base):
    __tablename__ = "entry_tags"
    __table_args__ = (
        PrimaryKeyConstraint("entry_id", "tag_id", name="pk_entry_tags"),
        same_user_fk("entry_tags", "entry_id", "entries", "entry"),
        same_user_fk("entry_tags", "tag_id", "tags", "tag"),
        Index("ix_entry_tags_tag_id_entry_id", "tag_id", "entry_id"),
        CheckConstraint(
            "assignment_type IN ('manual', 'ai_suggested', 'auto_rule')", name="assignment_type"
        ),
    )  # fmt: skip

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    entry_id: Mapped[uuid.UUID] = mapped_column()
    tag_id: Mapped[uuid.UUID] = mapped_column()
    # manual | ai_suggested (a suggestion the user accepted) | auto_rule (the tag's auto-apply)
    assignment_type: Mapped[str] = mapped_column(Text, server_default="manual")
    assignment_context: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )


class UserWord(Base):
    """Each distinct word of a user's entries and in how many entries it occurs; the
    vocabulary that typo-tolerant search corrects against (folded from `vocabulary_changes`
    by `vocabulary_fold()`)."""

    __tablename__ = "user_words"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "word", name="pk_user_words"),
        CheckConstraint("entry_count >= 0", name="entry_count"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    word: Mapped[str] = mapped_column(Text)
    entry_count: Mapped[int] = mapped_column(Integer)


class VocabularyChange(Base):
    """The words one write of an entry added to and removed from its author's vocabulary: an
    append-only log written by a trigger (writers never wait on each other's words), folded
    into `user_words` by the worker, and by search before it reads the vocabulary."""

    __tablename__ = "vocabulary_changes"
    __table_args__ = (Index("ix_vocabulary_changes_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    added: Mapped[list[str]] = mapped_column(ARRAY(Text))
    removed: Mapped[list[str]] = mapped_column(ARRAY(Text))

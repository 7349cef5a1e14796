"""Analysis results: one processed-content row per entry and task, and entry embeddings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from diarist.models.base import Base, UUIDv7PrimaryKey, same_user_fk

TASK_TYPES = ("sentiment", "emotions", "keywords")

# The values of `entry_embeddings.model`. The local model's vectors have an HNSW index of their
# own (made by the analysis migration); a remote model's index is made by `diarist analysis`.
LOCAL_EMBEDDING_MODEL = "all-MiniLM-L6-v2-int8"
EMBEDDING_DIMENSIONS = 384


def remote_model_name(model: str) -> str:
    """How a remote embedding model is named in `entry_embeddings.model`."""
    return f"openai:{model}"


class ProcessedContent(UUIDv7PrimaryKey, Base):
    """The latest result of one analysis task for one entry (seed 000's processed_content)."""

    __tablename__ = "processed_content"
    __table_args__ = (
        same_user_fk("processed_content", "entry_id", "entries", "entry"),
        UniqueConstraint("entry_id", "task_type", name="uq_processed_content_entry_id_task_type"),
        CheckConstraint(
            "task_type IN ('sentiment', 'emotions', 'keywords', 'reflection')", name="task_type"
        ),
        CheckConstraint("confidence BETWEEN 0 AND 1", name="confidence"),
        Index("ix_processed_content_user_id_task_type", "user_id", "task_type"),
        Index(
            "ix_processed_content_expires_at",
            "expires_at",
            postgresql_where=text("expires_at IS NOT NULL"),
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column()
    entry_id: Mapped[uuid.UUID] = mapped_column()
    task_type: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[bytes] = mapped_column(LargeBinary)
    processed_data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    confidence: Mapped[float | None] = mapped_column(Float)
    # {provider, model, model_version, processing_time_ms, tokens_used, cost_usd, request_id}
    provider_info: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EntryEmbedding(Base):
    """An entry's vector under one model; models of different dimensions can coexist (the
    HNSW index of each model casts to its dimension)."""

    __tablename__ = "entry_embeddings"
    __table_args__ = (
        PrimaryKeyConstraint("entry_id", "model", name="pk_entry_embeddings"),
        same_user_fk("entry_embeddings", "entry_id", "entries", "entry"),
        CheckConstraint("dimensions > 0", name="dimensions"),
        Index("ix_entry_embeddings_user_id_model", "user_id", "model"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column()
    entry_id: Mapped[uuid.UUID] = mapped_column()
    model: Mapped[str] = mapped_column(Text)
    dimensions: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[Any] = mapped_column(Vector())
    content_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Topic(UUIDv7PrimaryKey, Base):
    """A recurring subject of a user's writing, grown from the keywords of their entries.
    Keywords that stem alike ("garden", "gardening") share a topic."""

    __tablename__ = "topics"
    __table_args__ = (
        UniqueConstraint("user_id", "id", name="uq_topics_user_id_id"),
        ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_topics_user", ondelete="CASCADE"),
        CheckConstraint("length(name) BETWEEN 1 AND 100", name="name_length"),
        Index("uq_topics_user_id_topic_key", "user_id", "topic_key", unique=True),
    )

    user_id: Mapped[uuid.UUID] = mapped_column()
    name: Mapped[str] = mapped_column(Text)
    # The stemmed words of the name: what makes two keywords one topic. Set from the keyword
    # that founded the topic; a rename keeps it, so later keywords still find the topic.
    topic_key: Mapped[str] = mapped_column(Text)
    # Keys of topics merged into this one: their keywords land here from now on.
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    hidden: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EntryTopic(Base):
    __tablename__ = "entry_topics"
    __table_args__ = (
        PrimaryKeyConstraint("entry_id", "topic_id", name="pk_entry_topics"),
        same_user_fk("entry_topics", "entry_id", "entries", "entry"),
        same_user_fk("entry_topics", "topic_id", "topics", "topic"),
        CheckConstraint("relevance BETWEEN 0 AND 1", name="relevance"),
        Index("ix_entry_topics_topic_id", "topic_id"),
    )  # fmt: skip

    user_id: Mapped[uuid.UUID] = mapped_column()
    entry_id: Mapped[uuid.UUID] = mapped_column()
    topic_id: Mapped[uuid.UUID] = mapped_column()
    relevance: Mapped[float] = mapped_column(Float)

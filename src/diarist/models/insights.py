"""Insights: per-user statistics kept up to date by the worker, and stored insights.

Statistics are ordinary tables (RLS like every user-owned table; a materialized view could not
carry it), one row per local day and one per local day and tag or topic, holding counts, sums
and sums of squares so that weeks, months and any range combine exactly (mean and standard
deviation from n, Σx, Σx²). Triggers log the (user, day) pairs a write touches in
`stats_dirty_days`; the worker recomputes those days from the source rows. See docs/insights.md.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from diarist.models.base import Base, UUIDv7PrimaryKey, in_list, user_fk

SUBJECT_KINDS = ("tag", "topic")
INSIGHT_TYPES = ("weekday_effect", "tag_effect", "topic_effect", "streak_milestone", "trend")


class StatsDirtyDay(Base):
    """A (user, local day) whose statistics must be recomputed: an append-only log written by
    triggers (no conflicts, so writers never wait on each other or on the worker)."""

    __tablename__ = "stats_dirty_days"
    __table_args__ = (Index("ix_stats_dirty_days_user_id_day", "user_id", "day"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    day: Mapped[date] = mapped_column(Date)
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StatsDay(Base):
    """One local day of a user's live entries: counts and moments of mood and sentiment, the
    hour histogram and the sums of the emotion scores."""

    __tablename__ = "stats_days"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "day", name="pk_stats_days"),
        CheckConstraint("entries > 0", name="entries"),
        CheckConstraint("cardinality(hours) = 24", name="hours"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    day: Mapped[date] = mapped_column(Date)
    entries: Mapped[int] = mapped_column(Integer)
    words: Mapped[int] = mapped_column(BigInteger)
    mood_n: Mapped[int] = mapped_column(Integer)
    mood_sum: Mapped[float] = mapped_column(Float)
    mood_sumsq: Mapped[float] = mapped_column(Float)
    sentiment_n: Mapped[int] = mapped_column(Integer)
    sentiment_sum: Mapped[float] = mapped_column(Float)
    sentiment_sumsq: Mapped[float] = mapped_column(Float)
    # Entries per local hour 0..23.
    hours: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    emotions_n: Mapped[int] = mapped_column(Integer)
    # {emotion: sum of its scores}, {emotion: entries where it dominates}
    emotion_sums: Mapped[dict[str, Any]] = mapped_column(JSONB)
    dominant_counts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class StatsDaySubject(Base):
    """One local day of a user's live entries carrying one tag or topic."""

    __tablename__ = "stats_day_subjects"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "day", "kind", "subject_id", name="pk_stats_day_subjects"),
        CheckConstraint(in_list("kind", SUBJECT_KINDS), name="kind"),
        CheckConstraint("entries > 0", name="entries"),
        Index("ix_stats_day_subjects_user_id_kind_subject_id", "user_id", "kind", "subject_id"),
    )  # fmt: skip

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(Text)
    # A tag's or a topic's id; no foreign key (either table), reads join the live subject.
    subject_id: Mapped[uuid.UUID] = mapped_column()
    entries: Mapped[int] = mapped_column(Integer)
    mood_n: Mapped[int] = mapped_column(Integer)
    mood_sum: Mapped[float] = mapped_column(Float)
    mood_sumsq: Mapped[float] = mapped_column(Float)
    sentiment_n: Mapped[int] = mapped_column(Integer)
    sentiment_sum: Mapped[float] = mapped_column(Float)
    sentiment_sumsq: Mapped[float] = mapped_column(Float)


class Insight(UUIDv7PrimaryKey, Base):
    """A finding about the user's journal with its evidence (seed 002's psychology_insights).
    One row per fingerprint (user, type, subject): regenerating updates it in place, and
    `dismissed_at` survives regeneration."""

    __tablename__ = "insights"
    __table_args__ = (
        UniqueConstraint("user_id", "fingerprint", name="uq_insights_user_id_fingerprint"),
        CheckConstraint(in_list("insight_type", INSIGHT_TYPES), name="insight_type"),
        CheckConstraint("confidence_level BETWEEN 0 AND 1", name="confidence_level"),
        CheckConstraint("jsonb_typeof(insight_data) = 'object'", name="insight_data_object"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    insight_type: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(Text)
    insight_data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    confidence_level: Mapped[float] = mapped_column(Float)
    generated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # False when the latest generation no longer finds the evidence.
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

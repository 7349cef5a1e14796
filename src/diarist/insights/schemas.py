"""Request and response shapes of statistics and stored insights."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from diarist.kit.validation import IsoDate, StrictInput

Kind = Literal["tag", "topic"]


class PeriodQuery(StrictInput):
    """An inclusive range of local days; either end may be left open."""

    start: IsoDate | None = Field(default=None, alias="from")
    end: IsoDate | None = Field(default=None, alias="to")


class MoodQuery(PeriodQuery):
    granularity: Literal["day", "week", "month"] = "week"


class UsageQuery(PeriodQuery):
    kind: Kind | None = None


class CorrelationQuery(UsageQuery):
    min_entries: int = Field(default=5, ge=1, le=10_000)


class InsightsQuery(StrictInput):
    include_dismissed: bool = False


class Summary(BaseModel):
    n: int
    avg: float | None
    stddev: float | None  # sample standard deviation; null below two values


class MoodPoint(BaseModel):
    period: dt.date  # the first day of the day, ISO week (Monday) or month
    entries: int
    mood: Summary  # self-reported mood_rating, 1-10
    sentiment: Summary  # inferred sentiment compound, -1..1


class MoodSeries(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    granularity: Literal["day", "week", "month"]
    start: dt.date | None = Field(alias="from")
    end: dt.date | None = Field(alias="to")
    items: list[MoodPoint]


class WritingStatistics(BaseModel):
    entries: int
    words: int
    active_days: int
    current_streak: int
    longest_streak: int
    longest_streak_start: dt.date | None
    longest_streak_end: dt.date | None
    weekdays: list[int]  # entries per ISO weekday, Monday first
    hours: list[int]  # entries per local hour 0-23
    today: dt.date  # in my time zone: what the current streak is counted to


class MonthCount(BaseModel):
    month: dt.date
    entries: int


class SubjectUsage(BaseModel):
    kind: Kind
    id: uuid.UUID
    name: str
    entries: int
    months: list[MonthCount]


class Comparison(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    with_: Summary = Field(alias="with")
    without: Summary
    difference: float | None
    welch_t: float | None
    p_value: float | None


class SubjectCorrelation(BaseModel):
    kind: Kind
    id: uuid.UUID
    name: str
    entries: int
    entries_without: int
    mood: Comparison
    sentiment: Comparison


class EmotionShare(BaseModel):
    emotion: str
    mean_score: float | None
    dominant: int  # entries where it was the strongest


class EmotionDistribution(BaseModel):
    entries: int  # analysed entries in the range
    emotions: list[EmotionShare]


class InsightOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    insight_type: str
    insight_data: dict[str, Any]
    confidence_level: float
    generated_at: dt.datetime
    is_active: bool
    dismissed_at: dt.datetime | None

"""Request and response shapes of memories."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from diarist.journal.presenters import EntrySummary
from diarist.kit.validation import IsoDate, StrictInput


class RelatedQuery(StrictInput):
    limit: int = Field(default=10, ge=1, le=50)
    min_similarity: float = Field(default=0.3, ge=-1, le=1)


class RelatedEntry(EntrySummary):
    similarity: float


class RelatedPage(BaseModel):
    status: Literal["ready", "pending"]
    items: list[RelatedEntry]


class OnThisDayQuery(StrictInput):
    date: IsoDate | None = None
    limit: int = Field(default=20, ge=1, le=100)


class OnThisDay(BaseModel):
    date: dt.date
    items: list[EntrySummary]

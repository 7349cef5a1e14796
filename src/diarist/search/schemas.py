"""Request and response shapes of search."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from diarist.journal import queries as journal_queries
from diarist.kit.validation import IsoDateTime

Mode = Literal["keyword", "semantic", "hybrid"]


class SearchQuery(journal_queries.EntryQuery):
    q: Annotated[str, Field(min_length=1, max_length=500)]
    mode: Mode = "hybrid"
    limit: int = Field(default=20, ge=1, le=100)
    min_similarity: float | None = Field(
        default=None, ge=-1, le=1, description="Drop semantic hits less similar than this."
    )
    now: IsoDateTime | None = Field(
        default=None,
        description="The moment relative dates are read from (ISO 8601; default: now). "
        "Without an offset it is wall-clock time in the user's time zone.",
    )
    parse_dates: bool = Field(default=True, description="Read date words as a date filter.")

    @field_validator("now")
    @classmethod
    def _plausible(cls, value: datetime | None) -> datetime | None:
        """Dates are read for years 1900 to 2100; a `now` far outside them is a mistake."""
        if value is not None and not 1900 <= value.year <= 2100:
            raise ValueError("now must be in the years 1900 to 2100")
        return value


class KeywordMatch(BaseModel):
    rank: int
    score: float


class SemanticMatch(BaseModel):
    rank: int
    similarity: float


class MatchReasons(BaseModel):
    keyword: KeywordMatch | None = None
    semantic: SemanticMatch | None = None
    dates: str | None = Field(default=None, description="The date words the entry falls in.")


class SearchHit(BaseModel):
    id: uuid.UUID
    title: str | None
    snippet: str
    score: float
    entry_date: datetime
    match: MatchReasons


class Interpretation(BaseModel):
    text: str = Field(description="The words searched, date words removed.")
    date_phrase: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None


class SearchPage(BaseModel):
    items: list[SearchHit]
    mode: Mode
    interpreted: Interpretation
    corrected_query: str | None = Field(
        default=None, description="Set when typos were corrected to widen the query."
    )
    degraded: list[str] = Field(
        default_factory=list,
        description='Parts that could not run ("semantic" while the embedder is down).',
    )

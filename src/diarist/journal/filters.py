"""The filters of the timeline and of search, parsed from query parameters."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.journal import repository as journal_repo
from diarist.journal import service as entries_service
from diarist.journal.errors import InvalidEntry
from diarist.kit.validation import IsoDateTime, StrictInput, find_unstorable


class EntryQuery(StrictInput):
    """Filters of the timeline and of search; unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    date_from: IsoDateTime | None = Field(default=None, alias="from")
    date_to: IsoDateTime | None = Field(default=None, alias="to")
    tag: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=20
    )
    tag_mode: Literal["any", "all"] = "any"
    mood_min: int | None = Field(default=None, ge=1, le=10)
    mood_max: int | None = Field(default=None, ge=1, le=10)
    entry_type: list[Literal["text", "voice", "photo", "mixed"]] = Field(default_factory=list)
    processing_status: list[Literal["pending", "processing", "completed", "failed"]] = Field(
        default_factory=list
    )
    starred: bool | None = None
    raw_data_contains: Annotated[str, Field(max_length=4096)] | None = None
    metadata_contains: Annotated[str, Field(max_length=4096)] | None = None
    deleted: bool = False

    @field_validator("date_from", "date_to")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        """A date without an offset is taken as UTC (so `from` and `to` always compare)."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class TimelineQuery(EntryQuery):
    order: Literal["entry_date", "created_at"] = "entry_date"
    limit: int = Field(default=20, ge=1, le=100)
    cursor: Annotated[str, Field(max_length=300)] | None = None


def _json_filter(raw: str | None, name: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidEntry(f"{name} must be a JSON object.", field=name) from None
    if not isinstance(value, dict) or find_unstorable(value):
        raise InvalidEntry(
            f"{name} must be a JSON object (without NUL characters or non-finite numbers).",
            field=name,
        )
    return value


async def resolve_filters(
    session: AsyncSession, user_id: uuid.UUID, query: EntryQuery
) -> journal_repo.EntryFilters | None:
    """Resolve the query into filters; None when it can match nothing (an unknown tag)."""
    if query.mood_min and query.mood_max and query.mood_min > query.mood_max:
        raise InvalidEntry("mood_min is above mood_max.", field="mood_min")
    if query.date_from and query.date_to and query.date_from >= query.date_to:
        raise InvalidEntry("`from` must be before `to`.", field="from")
    groups: list[list[uuid.UUID]] = []
    if query.tag:
        groups, all_known = await entries_service.resolve_tag_groups(session, user_id, query.tag)
        if not groups or (query.tag_mode == "all" and not all_known):
            return None
    return journal_repo.EntryFilters(
        date_from=query.date_from,
        date_to=query.date_to,
        tag_groups=groups,
        tag_mode=query.tag_mode,
        mood_min=query.mood_min,
        mood_max=query.mood_max,
        entry_types=list(query.entry_type),
        processing_statuses=list(query.processing_status),
        starred=query.starred,
        raw_data_contains=_json_filter(query.raw_data_contains, "raw_data_contains"),
        metadata_contains=_json_filter(query.metadata_contains, "metadata_contains"),
        deleted=query.deleted,
    )

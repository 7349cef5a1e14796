"""Request and response shapes of entries and tags. Limits are in docs/api.md."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from diarist.kit.validation import BodyFloat, BodyInt, IsoDateTime, StrictInput, time_zones

EntryType = Literal["text", "voice", "photo", "mixed"]
Visibility = Literal["private", "shared", "public"]
ProcessingStatus = Literal["pending", "processing", "completed", "failed"]
TagName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
MAX_METADATA_KEYS = 64
MAX_TAGS_PER_ENTRY = 50
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Strict(StrictInput):
    pass


class Location(BaseModel):
    """`metadata.location`, when present."""

    model_config = ConfigDict(extra="allow")

    lat: BodyFloat = Field(ge=-90, le=90)
    lng: BodyFloat = Field(ge=-180, le=180)
    accuracy: BodyFloat | None = Field(default=None, ge=0, le=1_000_000)


def _check_zone(value: str | None) -> str | None:
    if value is not None and value not in time_zones():
        raise ValueError("not an IANA time zone (e.g. Europe/Berlin)")
    return value


# Dates of entries: what a journal can mean, and far inside what every layer (Python dates,
# psycopg, local days in any time zone) can hold.
FIRST_YEAR, LAST_YEAR = 1900, 2200


def _check_year(value: datetime | None) -> datetime | None:
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    return value


def _check_metadata(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if len(value) > MAX_METADATA_KEYS:
        raise ValueError(f"at most {MAX_METADATA_KEYS} keys")
    if any(len(key) > 64 for key in value):
        raise ValueError("keys are at most 64 characters")
    if "location" in value:
        Location.model_validate(value["location"])
    for key in ("source", "client_version"):
        if key in value and not (isinstance(value[key], str) and len(value[key]) <= 200):
            raise ValueError(f"{key} must be a string of at most 200 characters")
    return value


def _clean_tags(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    cleaned: dict[str, str] = {}
    for name in value:
        normal = " ".join(name.split())
        if not normal or _CONTROL.search(normal):
            raise ValueError("tag names need visible characters")
        cleaned.setdefault(normal.lower(), normal)
    return list(cleaned.values())


class EntryFields(Strict):
    """What create and update share; on update every field is optional."""

    title: Annotated[str, Field(max_length=500)] | None = None
    entry_type: EntryType | None = None
    metadata: dict[str, Any] | None = None
    mood_rating: Annotated[BodyInt, Field(ge=1, le=10)] | None = None
    entry_date: IsoDateTime | None = None
    timezone: str | None = None
    visibility: Visibility | None = None
    published_at: IsoDateTime | None = None
    starred: bool | None = None
    pinned: bool | None = None
    tags: Annotated[list[TagName], Field(max_length=MAX_TAGS_PER_ENTRY)] | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return _check_zone(value)

    @field_validator("entry_date", "published_at")
    @classmethod
    def _year(cls, value: datetime | None) -> datetime | None:
        return _check_year(value)

    @field_validator("metadata")
    @classmethod
    def _meta(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _check_metadata(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return _clean_tags(value)


class EntryCreate(EntryFields):
    raw_data: dict[str, Any]


class EntryUpdate(EntryFields):
    raw_data: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> EntryUpdate:
        if not self.model_fields_set:
            raise ValueError("nothing to change")
        return self


class EntrySummary(BaseModel):
    id: uuid.UUID
    title: str | None
    excerpt: str
    entry_type: EntryType
    format: str
    mood_rating: int | None
    entry_date: datetime
    timezone: str
    visibility: Visibility
    starred: bool
    pinned: bool
    tags: list[str]
    word_count: int
    reading_minutes: int
    processing_status: ProcessingStatus
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class SentimentOut(BaseModel):
    compound: float
    label: Literal["positive", "negative", "neutral"]


class AnalysisOut(BaseModel):
    """What the worker found; `null` parts are not analysed (yet, or by consent)."""

    status: ProcessingStatus
    error: str | None
    sentiment: SentimentOut | None
    emotions: dict[str, float] | None
    keywords: list[str] | None
    reflection: str | None = None
    topics: list[str] = Field(default_factory=list)


class EntryOut(EntrySummary):
    raw_data: dict[str, Any]
    metadata: dict[str, Any]
    published_at: datetime | None
    analysis: AnalysisOut


class EntryPage(BaseModel):
    items: list[EntrySummary]
    next_cursor: str | None


class RevisionOut(BaseModel):
    version: int
    title: str | None
    raw_data: dict[str, Any]
    created_at: datetime


class TagFields(Strict):
    name: TagName | None = None
    color: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")] | None = None
    icon: Annotated[str, Field(max_length=32)] | None = None
    description: Annotated[str, Field(max_length=500)] | None = None
    parent_id: uuid.UUID | None = None
    # Put on entries automatically when the analysis suggests it with confidence.
    auto_apply: bool | None = None


class TagCreate(TagFields):
    name: TagName


class TagUpdate(TagFields):
    pass


class TagListQuery(StrictInput):
    """`GET /api/v1/tags`: all tags, or those resembling `q`."""

    q: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class TagOut(BaseModel):
    id: uuid.UUID
    name: str
    color: str | None
    icon: str | None
    description: str | None
    parent_id: uuid.UUID | None
    auto_apply: bool
    usage_count: int
    created_at: datetime
    updated_at: datetime


class TagMerge(Strict):
    into: uuid.UUID


class RelationshipCreate(Strict):
    related_tag_id: uuid.UUID
    kind: Literal["synonym", "related", "excludes"]
    strength: Annotated[BodyFloat, Field(ge=0, le=1)] = 1.0


class RelationshipOut(BaseModel):
    id: uuid.UUID
    tag_id: uuid.UUID
    related_tag_id: uuid.UUID
    kind: str
    strength: float
    created_at: datetime


class TranscriptionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attachment_id: uuid.UUID = Field(description="An audio or video attachment of the entry.")


class TranscriptionQueued(BaseModel):
    status: Literal["queued"] = "queued"
    entry_id: uuid.UUID
    attachment_id: uuid.UUID

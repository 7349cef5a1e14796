"""Request and response shapes of analysis results: topics and tag suggestions."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from diarist.kit.validation import StrictInput


class TopicOut(BaseModel):
    id: uuid.UUID
    name: str
    hidden: bool
    entries: int | None = None
    relevance: float | None = None


class TopicQuery(StrictInput):
    min_entries: int = Field(default=2, ge=1, le=1000)
    include_hidden: bool = False
    limit: int = Field(default=50, ge=1, le=500)


class TopicPatch(StrictInput):
    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    hidden: bool | None = None


class TopicMerge(StrictInput):
    into: uuid.UUID


class TagSuggestion(BaseModel):
    tag_id: uuid.UUID
    name: str
    confidence: float
    reasons: list[str]
    auto_apply: bool

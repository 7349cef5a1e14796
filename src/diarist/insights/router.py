"""HTTP routes: related memories and on-this-day."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from diarist.accounts.dependencies import CurrentPrincipal
from diarist.db.session import DbSession
from diarist.insights import service as insights_service
from diarist.journal import service as entries_service
from diarist.journal.router import summary_out
from diarist.journal.schemas import EntrySummary
from diarist.kit.settings import AppSettings
from diarist.kit.validation import StrictInput

related_router = APIRouter(prefix="/api/v1/entries", tags=["insights"])
insights_router = APIRouter(prefix="/api/v1/insights", tags=["insights"])
_PROBLEM: dict[int | str, dict[str, Any]] = {
    code: {"description": "problem+json"} for code in (400, 401, 403, 404, 422)
}


class RelatedQuery(StrictInput):
    limit: int = Field(default=10, ge=1, le=50)
    min_similarity: float = Field(default=0.3, ge=-1, le=1)


class RelatedEntry(EntrySummary):
    similarity: float


class RelatedPage(BaseModel):
    status: Literal["ready", "pending"]
    items: list[RelatedEntry]


class OnThisDayQuery(StrictInput):
    date: dt.date | None = None
    limit: int = Field(default=20, ge=1, le=100)


class OnThisDay(BaseModel):
    date: dt.date
    items: list[EntrySummary]


@related_router.get("/{entry_id}/related", response_model=RelatedPage, responses=_PROBLEM)
async def related(
    entry_id: uuid.UUID,
    query: Annotated[RelatedQuery, Query()],
    settings: AppSettings,
    session: DbSession,
    me: CurrentPrincipal,
) -> RelatedPage:
    """My entries nearest in meaning to this one (itself excluded); `pending` until the entry
    is analysed."""
    found = await insights_service.related_entries(
        session,
        settings.analysis,
        me.user_id,
        entry_id,
        limit=query.limit,
        min_similarity=query.min_similarity,
    )
    if found is None:
        return RelatedPage(status="pending", items=[])
    names = await entries_service.tag_names_for(session, [e.id for e, _ in found])
    items = [
        RelatedEntry.model_validate(
            {**summary_out(e, names.get(e.id, [])), "similarity": round(s, 4)}
        )
        for e, s in found
    ]
    return RelatedPage(status="ready", items=items)


@insights_router.get("/on-this-day", response_model=OnThisDay, responses=_PROBLEM)
async def on_this_day(
    query: Annotated[OnThisDayQuery, Query()], session: DbSession, me: CurrentPrincipal
) -> OnThisDay:
    """What I wrote on this calendar day in earlier years (default: today, my time zone)."""
    day, entries = await insights_service.on_this_day(session, me.user_id, query.date, query.limit)
    names = await entries_service.tag_names_for(session, [e.id for e in entries])
    items = [EntrySummary.model_validate(summary_out(e, names.get(e.id, []))) for e in entries]
    return OnThisDay(date=day, items=items)

"""HTTP routes of memories: related entries and on-this-day."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from diarist.accounts.dependencies import CurrentPrincipal
from diarist.config import AppSettings
from diarist.db.session import DbSession
from diarist.journal import presenters
from diarist.journal import queries as journal_queries
from diarist.journal.presenters import EntrySummary
from diarist.kit.responses import problem_responses
from diarist.memories import service as memories_service
from diarist.memories.schemas import (
    OnThisDay,
    OnThisDayQuery,
    RelatedEntry,
    RelatedPage,
    RelatedQuery,
)

# The paths and OpenAPI tags are those of the insights API, where these began.
related_router = APIRouter(prefix="/api/v1/entries", tags=["insights"])
on_this_day_router = APIRouter(prefix="/api/v1/insights", tags=["insights"])
_PROBLEM = problem_responses(400, 401, 403, 404, 422)


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
    found = await memories_service.find_related_entries(
        session,
        settings.analysis,
        me.user_id,
        entry_id,
        limit=query.limit,
        min_similarity=query.min_similarity,
    )
    if found is None:
        return RelatedPage(status="pending", items=[])
    names = await journal_queries.tag_names_for(session, [e.id for e, _ in found])
    items = [
        RelatedEntry.model_validate(
            {**presenters.summary_out(e, names.get(e.id, [])), "similarity": round(s, 4)}
        )
        for e, s in found
    ]
    return RelatedPage(status="ready", items=items)


@on_this_day_router.get("/on-this-day", response_model=OnThisDay, responses=_PROBLEM)
async def on_this_day(
    query: Annotated[OnThisDayQuery, Query()], session: DbSession, me: CurrentPrincipal
) -> OnThisDay:
    """What I wrote on this calendar day in earlier years (default: today, my time zone)."""
    day, entries = await memories_service.on_this_day(session, me.user_id, query.date, query.limit)
    names = await journal_queries.tag_names_for(session, [e.id for e in entries])
    items = [
        EntrySummary.model_validate(presenters.summary_out(e, names.get(e.id, []))) for e in entries
    ]
    return OnThisDay(date=day, items=items)

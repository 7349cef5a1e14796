"""HTTP route of search: `GET /api/v1/search`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from diarist.accounts.dependencies import CurrentPrincipal
from diarist.db.session import DbSession
from diarist.journal.filters import EntryQuery, resolve_filters
from diarist.search import service as search_service

search_router = APIRouter(prefix="/api/v1/search", tags=["search"])
_PROBLEM: dict[int | str, dict[str, Any]] = {
    code: {"description": "problem+json"} for code in (400, 401, 403, 422)
}


class SearchQuery(EntryQuery):
    q: Annotated[str, Field(min_length=1, max_length=500)]
    mode: Literal["keyword"] = "keyword"
    limit: int = Field(default=20, ge=1, le=100)


class SearchHit(BaseModel):
    id: uuid.UUID
    title: str | None
    snippet: str
    score: float
    entry_date: datetime


class SearchPage(BaseModel):
    items: list[SearchHit]
    corrected_query: str | None = Field(
        default=None, description="Set when typos were corrected to widen the query."
    )


@search_router.get("", response_model=SearchPage, responses=_PROBLEM)
async def search(
    query: Annotated[SearchQuery, Query()], session: DbSession, me: CurrentPrincipal
) -> SearchPage:
    """Keyword search over my entries: "quoted phrases", `or`, `-exclusion`; ranked, with
    snippets (`<mark>` around matches), the timeline's filters, and typo tolerance."""
    filters = await resolve_filters(session, me.user_id, query)
    if filters is None:
        return SearchPage(items=[])
    result = await search_service.keyword_search(session, me.user_id, query.q, filters, query.limit)
    return SearchPage(
        items=[SearchHit.model_validate(hit, from_attributes=True) for hit in result.hits],
        corrected_query=result.corrected_query,
    )

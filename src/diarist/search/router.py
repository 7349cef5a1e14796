"""HTTP route of search: `GET /api/v1/search`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, field_validator

from diarist.accounts.dependencies import CurrentPrincipal
from diarist.config import AppSettings
from diarist.db.session import DbSession
from diarist.journal.queries import EntryQuery, resolve_filters
from diarist.kit.responses import json_response
from diarist.search import service as search_service
from diarist.search.embedding import QueryEmbedder
from diarist.search.repository import Hit
from diarist.search.service import Mode, SearchRequest

search_router = APIRouter(prefix="/api/v1/search", tags=["search"])
_PROBLEM: dict[int | str, dict[str, Any]] = {
    code: {"description": "problem+json"} for code in (400, 401, 403, 422, 503)
}


async def query_embedder(request: Request) -> QueryEmbedder:
    embedder: QueryEmbedder = request.app.state.query_embedder
    return embedder


QueryEmbedderDep = Annotated[QueryEmbedder, Depends(query_embedder)]


class SearchQuery(EntryQuery):
    q: Annotated[str, Field(min_length=1, max_length=500)]
    mode: Mode = "hybrid"
    limit: int = Field(default=20, ge=1, le=100)
    min_similarity: float | None = Field(
        default=None, ge=-1, le=1, description="Drop semantic hits less similar than this."
    )
    now: datetime | None = Field(
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


def _hit(hit: Hit, dates: str | None) -> SearchHit:
    keyword = semantic = None
    if hit.keyword_rank is not None and hit.keyword_score is not None:
        keyword = KeywordMatch(rank=hit.keyword_rank, score=hit.keyword_score)
    if hit.semantic_rank is not None and hit.similarity is not None:
        semantic = SemanticMatch(rank=hit.semantic_rank, similarity=hit.similarity)
    return SearchHit(
        id=hit.id,
        title=hit.title,
        snippet=hit.snippet,
        score=hit.score,
        entry_date=hit.entry_date,
        match=MatchReasons(keyword=keyword, semantic=semantic, dates=dates),
    )


@search_router.get("", status_code=200, response_model=SearchPage, responses=_PROBLEM)
async def search(
    query: Annotated[SearchQuery, Query()],
    session: DbSession,
    me: CurrentPrincipal,
    settings: AppSettings,
    embedder: QueryEmbedderDep,
) -> Response:
    """Search my entries by words, by meaning, or both (`mode=hybrid`, the default, fuses the
    two rankings). Keyword syntax: "quoted phrases", `or`, `-exclusion`; typos are corrected.
    Date words ("last week", "in March", "last Christmas") filter by date in my time zone.
    Each hit says why it matched; the timeline's filters apply."""
    filters = await resolve_filters(session, me.user_id, query)
    now = query.now or datetime.now(UTC)
    empty = Interpretation(text=query.q.strip())
    if filters is None:
        return json_response(SearchPage(items=[], mode=query.mode, interpreted=empty))
    request = SearchRequest(
        query=query.q,
        mode=query.mode,
        filters=filters,
        limit=query.limit,
        now=now,
        min_similarity=query.min_similarity,
        parse_dates=query.parse_dates,
    )
    result = await search_service.search(session, settings, embedder, me.user_id, request)
    phrase = result.dates.phrase if result.dates else None
    page = SearchPage(
        items=[_hit(hit, phrase) for hit in result.hits],
        mode=query.mode,
        interpreted=Interpretation(
            text=result.text,
            date_phrase=phrase,
            date_from=result.dates.start.astimezone(UTC) if result.dates else None,
            date_to=result.dates.end.astimezone(UTC) if result.dates else None,
        ),
        corrected_query=result.corrected_query,
        degraded=result.degraded,
    )
    return json_response(page)

"""HTTP route of search: `GET /api/v1/search`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from diarist.accounts.dependencies import UncheckedPrincipal, current_principal
from diarist.config import AppSettings
from diarist.db.session import DbSession
from diarist.journal import queries as journal_queries
from diarist.kit.responses import json_response, problem_responses
from diarist.search import service as search_service
from diarist.search.dependencies import QueryEmbedderDep
from diarist.search.repository import Hit
from diarist.search.schemas import (
    Interpretation,
    KeywordMatch,
    MatchReasons,
    SearchHit,
    SearchPage,
    SearchQuery,
    SemanticMatch,
)
from diarist.search.service import SearchRequest, SearchResult

search_router = APIRouter(prefix="/api/v1/search", tags=["search"])
_PROBLEM = problem_responses(400, 401, 403, 422, 503)


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


# Parameters that leave a keyword search "plain": without date words (`undated_words`), such a
# search is one round trip with its token check.
_PLAIN_SEARCH = frozenset({"q", "mode", "limit", "now", "parse_dates", "deleted", "min_similarity"})


@search_router.get("", status_code=200, response_model=SearchPage, responses=_PROBLEM)
async def search(
    query: Annotated[SearchQuery, Query()],
    session: DbSession,
    pending: UncheckedPrincipal,
    settings: AppSettings,
    embedder: QueryEmbedderDep,
    http_request: Request,
) -> Response:
    """Search my entries by words, by meaning, or both (`mode=hybrid`, the default, fuses the
    two rankings). Keyword syntax: "quoted phrases", `or`, `-exclusion`; typos are corrected.
    Date words ("last week", "in March", "last Christmas") filter by date in my time zone.
    Each hit says why it matched; the timeline's filters apply."""
    now = query.now or datetime.now(UTC)
    words = None
    if query.model_fields_set <= _PLAIN_SEARCH:
        words = search_service.undated_words(query.q, now, parse_dates=query.parse_dates)
    if words is not None and query.mode != "keyword":
        plain = SearchRequest(
            query=words,
            mode=query.mode,
            filters=journal_queries.EntryFilters(deleted=query.deleted),
            limit=query.limit,
            now=now,
            min_similarity=query.min_similarity,
            abandoned=http_request.is_disconnected,
        )
        result = await search_service.meaning_search_checked(
            session, pending, settings, embedder, words, plain
        )
        return _page_response(query, result)
    if words is not None:
        result = await search_service.keyword_search_checked(
            session,
            pending,
            words,
            deleted=query.deleted,
            limit=query.limit,
            candidates=settings.search.keyword_candidates,
        )
        return _page_response(query, result)
    me = await current_principal(session, pending)
    filters = await journal_queries.resolve_filters(session, me.user_id, query)
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
        abandoned=http_request.is_disconnected,
    )
    result = await search_service.search(session, settings, embedder, me.user_id, request)
    return _page_response(query, result)


def _page_response(query: SearchQuery, result: SearchResult) -> Response:
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

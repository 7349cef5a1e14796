"""Search over a user's own entries: keyword, semantic, or both fused (hybrid, the default).

Date words in the query ("last spring", "in March") become a date filter in the user's time
zone and leave the text that is searched. Keyword search is typo tolerant, alone and as the
keyword side of hybrid search: when a query finds little by its words, words the user never
wrote are corrected to the closest words they did write, and the query is widened with them.
Semantic hits count only above the similarity threshold, fused or not. Hybrid search degrades
to keyword search when the embedder is down.
"""

from __future__ import annotations

import re
import uuid
import zoneinfo
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import preferences as preferences_api
from diarist.accounts.principal import PendingPrincipal
from diarist.config import Settings
from diarist.db.engine import act_as
from diarist.db.pipeline import read_in_one_trip, tenant_statement
from diarist.journal import queries as journal_queries
from diarist.search import repository as repo
from diarist.search.dates import DateRange, parse_query
from diarist.search.errors import SemanticSearchUnavailable
from diarist.search.query_embedder import Abandoned, Embeds
from diarist.search.repository import Hit, Ranking
from diarist.search.schemas import Mode

# Fewer keyword hits than this (or than the page holds) and the query is checked for typos.
FEW_HITS = 3
SIMILARITY = 0.35
_TOKEN = re.compile(r'"[^"]*"|\S+')
_OPERATORS = {"or", "and", "not"}


@dataclass(frozen=True)
class SearchRequest:
    query: str
    mode: Mode
    filters: journal_queries.EntryFilters
    limit: int
    now: datetime
    min_similarity: float | None = None
    parse_dates: bool = True
    # Whether the client has gone (checked before the query is embedded).
    abandoned: Abandoned | None = None


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    text: str
    dates: DateRange | None = None
    corrected_query: str | None = None
    degraded: list[str] = field(default_factory=list)


def _correctable(token: str) -> str | None:
    """A bare word of the query (not a phrase, exclusion or operator), lower-cased."""
    if token.startswith(('"', "-")) or token.lower() in _OPERATORS:
        return None
    word = re.sub(r"[^\w]", "", token).lower()
    return word if len(word) >= 3 and not word.isdigit() else None


async def _corrected(session: AsyncSession, user_id: uuid.UUID, query: str) -> str | None:
    tokens = _TOKEN.findall(query)
    words = {t: w for t in tokens if (w := _correctable(t))}
    if not words:
        return None
    # The words written since the worker last counted them, counted now.
    await journal_queries.fold_vocabulary(session, user_id)
    known = await repo.known_words(session, user_id, sorted(set(words.values())))
    changed = False
    rewritten: list[str] = []
    for token in tokens:
        word = words.get(token)
        fix = None
        if word is not None and word not in known:
            fix = await repo.closest_word(session, user_id, word, SIMILARITY)
        if fix is not None and fix != word:
            rewritten.append(f"{token} or {fix}")
            changed = True
        else:
            rewritten.append(token)
    return " ".join(rewritten) if changed else None


def _within(
    filters: journal_queries.EntryFilters, dates: DateRange
) -> journal_queries.EntryFilters | None:
    """The filters narrowed to the query's dates; None when nothing is left."""
    start = max(filter(None, (filters.date_from, dates.start)))
    end = min(filter(None, (filters.date_to, dates.end)))
    return replace(filters, date_from=start, date_to=end) if start < end else None


def _keyword_hits(hits: list[Hit]) -> int:
    return sum(1 for hit in hits if hit.keyword_rank is not None)


def _few(hits: list[Hit], limit: int) -> bool:
    return _keyword_hits(hits) < min(FEW_HITS, limit)


def _semantic_hits(hits: list[Hit]) -> int:
    return sum(1 for hit in hits if hit.semantic_rank is not None)


async def search(
    session: AsyncSession,
    settings: Settings,
    embedder: Embeds,
    user_id: uuid.UUID,
    request: SearchRequest,
) -> SearchResult:
    """Search the user's entries as `request` asks: date words to a filter, then the keyword
    and/or semantic lists (fused for hybrid); typo correction for the keyword list."""
    preferences = await preferences_api.preferences_of(session, user_id)
    zone = zoneinfo.ZoneInfo(preferences.timezone)
    text, dates = request.query.strip(), None
    if request.parse_dates:
        now = request.now if request.now.tzinfo else request.now.replace(tzinfo=zone)
        parsed = parse_query(request.query, now, zone)
        text, dates = parsed.text, parsed.dates
    filters: journal_queries.EntryFilters | None = request.filters
    if dates is not None:
        filters = _within(request.filters, dates)
    if not text and dates is None:
        raise journal_queries.InvalidEntry("The query has no words to search for.", field="q")
    result = SearchResult(hits=[], text=text, dates=dates)
    if filters is None:
        return result
    if not text:
        return replace(
            result, hits=await repo.dated_entries(session, user_id, filters, request.limit)
        )

    vector: list[float] | None = None
    model: str | None = None
    if request.mode != "keyword":
        model = preferences.embedding_model(settings.analysis)
        # A read: give the connection back to the pool while the embedder works (under load
        # its queue is the longest wait); the next statement begins a transaction of the same
        # tenant.
        await session.commit()
        vector, result = await _query_vector(embedder, text, model, request, result)
    approximate = False
    if vector is not None and model is not None and filters == journal_queries.EntryFilters():
        cap = settings.search.exact_max_vectors + 1
        approximate = await repo.vector_count(session, user_id, model, cap) == cap
    ranking = _ranking(settings, text, request, vector, model, approximate)

    async def ranked(ranking: Ranking) -> list[Hit]:
        return await repo.ranked_search(session, user_id, ranking, filters, request.limit)

    ranking, hits = await _exact_if_none(ranking, ranked)
    if ranking.keyword_query is None:
        return replace(result, hits=hits)
    # In hybrid too: the vector of a misspelt word is near nothing (its hits fall under the
    # threshold), so without the correction a typo finds nothing, or only weak neighbours.
    return await _typos_corrected(session, user_id, ranking, filters, request.limit, result, hits)


async def _query_vector(
    embedder: Embeds, text: str, model: str, request: SearchRequest, result: SearchResult
) -> tuple[list[float] | None, SearchResult]:
    """The query's vector under `model`; without the embedder, hybrid search goes on with
    its keyword side (the result says it degraded), semantic search fails."""
    try:
        return await embedder.embed(text, model, request.abandoned), result
    except SemanticSearchUnavailable:
        if request.mode == "semantic":
            raise
        return None, replace(result, degraded=["semantic"])


def _ranking(
    settings: Settings,
    text: str,
    request: SearchRequest,
    vector: list[float] | None,
    model: str | None,
    approximate: bool,
) -> Ranking:
    """What `request` ranks by, with the settings' fusion and thresholds."""
    chosen = request.min_similarity
    return Ranking(
        keyword_query=None if request.mode == "semantic" else text,
        headline_query=text,
        vector=vector,
        model=model,
        approximate=approximate,
        min_similarity=settings.search.min_similarity if chosen is None else chosen,
        depth=settings.search.fusion_depth,
        rrf_k=settings.search.rrf_k,
        candidates=settings.search.keyword_candidates,
    )


async def _exact_if_none(
    ranking: Ranking, ranked: Callable[[Ranking], Awaitable[list[Hit]]]
) -> tuple[Ranking, list[Hit]]:
    """The hits of `ranking`; through the index and finding nothing by meaning, exactly.
    An index scan stops after `hnsw.max_scan_tuples` (set per connection): in a huge table
    that may hold none of the user's vectors above the threshold. Exact k-NN has no such
    limit; a shortfall short of none is not told apart from the threshold."""
    hits = await ranked(ranking)
    if ranking.approximate and _semantic_hits(hits) == 0:
        ranking = replace(ranking, approximate=False)
        hits = await ranked(ranking)
    return ranking, hits


async def _typos_corrected(
    session: AsyncSession,
    user_id: uuid.UUID,
    ranking: Ranking,
    filters: journal_queries.EntryFilters,
    limit: int,
    result: SearchResult,
    hits: list[Hit],
) -> SearchResult:
    """`hits` of a keyword or hybrid search; when few of them matched by words, the keyword
    query widened with the user's own words closest to those they never wrote (the semantic
    side, if any, unchanged), if that matches more by words."""
    if not _few(hits, limit):
        return replace(result, hits=hits)
    assert isinstance(ranking.keyword_query, str)
    corrected = await _corrected(session, user_id, ranking.keyword_query)
    if corrected is None:
        return replace(result, hits=hits)
    widened = replace(ranking, keyword_query=corrected, headline_query=corrected)
    more = await repo.ranked_search(session, user_id, widened, filters, limit)
    if _keyword_hits(more) > _keyword_hits(hits):
        return replace(result, hits=more, corrected_query=corrected)
    return replace(result, hits=hits)


# The zones whose dates are the earliest and the latest on Earth at any instant.
_EARLIEST, _LATEST = zoneinfo.ZoneInfo("Etc/GMT+12"), zoneinfo.ZoneInfo("Etc/GMT-14")


def undated_words(query: str, now: datetime, *, parse_dates: bool) -> str | None:
    """The words of a query that names no dates in any time zone, as `search` reads them;
    None when it may name some (their range needs the user's zone) or has no words. Whether
    words are dates depends on the zone only through today's date (a year must lie in
    1900-2100), which is earliest and latest in these two zones."""
    if not parse_dates:
        return query.strip() or None
    for zone in (_EARLIEST, _LATEST):
        parsed = parse_query(query, now if now.tzinfo else now.replace(tzinfo=zone), zone)
        if parsed.dates is not None:
            return None
    return parsed.text or None


async def keyword_search_checked(
    session: AsyncSession,
    pending: PendingPrincipal,
    words: str,
    *,
    deleted: bool,
    limit: int,
    candidates: int,
) -> SearchResult:
    """A keyword search without filters or date words (`undated_words`), read in the same
    round trip as the token check (db.pipeline), which is confirmed before anything else.
    Few hits take more trips: the typo correction of `search`."""
    statement = repo.keyword_statement(words, deleted=deleted, limit=limit, candidates=candidates)
    principal, (rows,) = await pending.read(session, statement)
    hits = repo.hits_of(rows)
    result = SearchResult(hits=hits, text=words)
    if not _few(hits, limit):
        return result
    await act_as(session, principal.user_id)  # the read's transaction, and tenant, have ended
    ranking = Ranking(keyword_query=words, headline_query=words, candidates=candidates)
    filters = journal_queries.EntryFilters(deleted=deleted)
    return await _typos_corrected(session, principal.user_id, ranking, filters, limit, result, hits)


async def meaning_search_checked(
    session: AsyncSession,
    pending: PendingPrincipal,
    settings: Settings,
    embedder: Embeds,
    words: str,
    request: SearchRequest,
) -> SearchResult:
    """A semantic or hybrid search of `words` without filters or date words (`undated_words`;
    `request` asks at most for the trash) in two round trips: the token check with the
    user's vector count, then, after the embedder (the connection is given back meanwhile),
    the ranked search. As `search`: hybrid degrades to keyword search without the embedder,
    an approximate scan that found nothing is run exactly, few keyword hits take the typo
    correction's trips."""
    cap = settings.search.exact_max_vectors + 1
    models = preferences_api.embedding_models(settings.analysis)
    counts = [repo.vector_count_statement(model, cap) for model in models]
    principal, preferences, counted = await pending.read_with_preferences(session, *counts)
    model = preferences.embedding_model(settings.analysis)
    vectors = counted[models.index(model)][0][0]
    await session.commit()  # the read has ended: the connection goes back to the pool
    result = SearchResult(hits=[], text=words)
    vector, result = await _query_vector(embedder, words, model, request, result)
    deleted, limit = request.filters.deleted, request.limit
    approximate = vector is not None and not deleted and vectors == cap
    ranking = _ranking(settings, words, request, vector, model, approximate)

    async def ranked(ranking: Ranking) -> list[Hit]:
        statement = repo.ranked_statement(words, ranking, deleted=deleted, limit=limit)
        _, rows = await read_in_one_trip(session, [tenant_statement(principal.user_id), statement])
        return repo.hits_of(rows)

    ranking, hits = await _exact_if_none(ranking, ranked)
    if ranking.keyword_query is None or not _few(hits, limit):
        return replace(result, hits=hits)
    await act_as(session, principal.user_id)
    return await _typos_corrected(
        session, principal.user_id, ranking, request.filters, limit, result, hits
    )

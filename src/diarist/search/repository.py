"""The queries of search, under the acting user's RLS context.

Plan choice (see docs/search.md): under forced RLS PostgreSQL will not use `@@` as an index
condition ahead of the policy, so the application role would match every one of a user's rows.
The match therefore runs in the narrow SECURITY DEFINER function `search_entry_ids()`, which
applies the caller's user filter itself and lets the GIN and user_id indexes combine.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Float,
    Integer,
    Select,
    Subquery,
    Uuid,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    null,
    select,
    text,
)
from sqlalchemy import Text as TextType
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.db.pipeline import Statement, compile_for_driver
from diarist.db.vectors import QueryVector
from diarist.journal import queries as journal_queries
from diarist.models import Entry, EntryEmbedding

HEADLINE = "StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=12, MaxFragments=2"
SNIPPET_CHARS = 240


@dataclass(frozen=True)
class Hit:
    """One search result with the reasons it was found (its rank and score in each list)."""

    id: uuid.UUID
    title: str | None
    snippet: str
    entry_date: datetime
    score: float
    keyword_rank: int | None = None
    keyword_score: float | None = None
    semantic_rank: int | None = None
    similarity: float | None = None


# The acting user: their id, or the transaction's tenant for a statement sent in the same round
# trip as its token check (db.pipeline).
User: TypeAlias = uuid.UUID | ColumnElement[uuid.UUID]
# A value of the query: given, or a named parameter of a statement compiled once (db.pipeline).
Value: TypeAlias = str | BindParameter[str]


@dataclass(frozen=True)
class Ranking:
    """What to rank by: a keyword query, a query vector of `model`, or both (fused). Words are
    read with the acting user's text search configuration."""

    keyword_query: Value | None
    headline_query: Value
    vector: list[float] | BindParameter[Any] | None = None
    model: str | None = None
    # The vector's size when it is a parameter (`_hot_sql`); else its length.
    dimensions: int = 0
    # Nearest neighbours through the model's HNSW index instead of exact k-NN (for users with
    # many vectors and no filter; see docs/search.md).
    approximate: bool = False
    min_similarity: float | BindParameter[float] = 0.0
    depth: int | BindParameter[int] = 50
    rrf_k: int = 60
    # Without filters, rank at most this many of the newest keyword matches (None: all).
    candidates: int | BindParameter[int] | None = None


def _ranked(
    top: Select[Any], name: str, min_score: float | BindParameter[float] | None = None
) -> Subquery:
    """`top` (id, score, date; ordered and limited) numbered 1.. in its own order, computed
    over its few rows only (a window in `top` itself would sort every candidate). Rows below
    `min_score` are dropped here: the same rows as a filter in `top`, evaluated far less."""
    inner = top.subquery(f"{name}_top")
    order = (inner.c.score.desc(), inner.c.entry_date.desc(), inner.c.id.desc())
    rank = func.row_number().over(order_by=order).label("rank")
    ranked = select(inner.c.id, inner.c.score, inner.c.entry_date, rank)
    if min_score is not None:
        ranked = ranked.where(inner.c.score >= min_score)
    return ranked.subquery(name)


def _keyword_list(
    user_id: User,
    tsquery: ColumnElement[Any],
    filters: journal_queries.EntryFilters,
    depth: int | BindParameter[int],
    candidates: int | BindParameter[int] | None,
) -> Subquery:
    """The best `depth` keyword matches, ranked by ts_rank_cd (recency breaks ties).

    The match runs in `search_entry_ids()` (db/sql/search/search_entry_ids.sql), which ranks
    only the newest `candidates` matches; the other filters run here, under RLS, so with any
    of them every match is ranked (they might leave none of the newest)."""
    if filters != journal_queries.EntryFilters(deleted=filters.deleted):
        candidates = None
    matches = func.search_entry_ids(tsquery, filters.deleted, candidates).table_valued(
        column("entry_id", Uuid()), column("score", Float())
    )
    top = (
        journal_queries.apply_filters(
            select(Entry.id, matches.c.score, Entry.entry_date), user_id, filters
        )
        .join(matches, matches.c.entry_id == Entry.id)
        .order_by(matches.c.score.desc(), Entry.entry_date.desc(), Entry.id.desc())
        .limit(depth)
    )
    return _ranked(top, "kw")


def _semantic_list(
    user_id: User,
    ranking: Ranking,
    filters: journal_queries.EntryFilters,
    depth: int | BindParameter[int],
) -> Subquery:
    """The `depth` entries nearest to the query vector, by exact k-NN over the user's own
    vectors of the model (the user_id index, then distance; see docs/search.md)."""
    if ranking.approximate:
        return _ranked(
            _nearest_by_index(user_id, ranking, filters, depth), "sem", ranking.min_similarity
        )
    # One distance per vector: the sort reuses the selected column.
    similarity = (1 - EntryEmbedding.embedding.cosine_distance(ranking.vector)).label("score")
    top = (
        journal_queries.apply_filters(
            select(Entry.id, similarity, Entry.entry_date), user_id, filters
        )
        .join(EntryEmbedding, EntryEmbedding.entry_id == Entry.id)
        .where(EntryEmbedding.user_id == user_id, EntryEmbedding.model == ranking.model)
        .order_by(similarity.desc(), Entry.entry_date.desc(), Entry.id.desc())
        .limit(depth)
    )
    return _ranked(top, "sem", ranking.min_similarity)


def _nearest_by_index(
    user_id: User,
    ranking: Ranking,
    filters: journal_queries.EntryFilters,
    depth: int | BindParameter[int],
) -> Select[Any]:
    """The nearest `depth` vectors from the model's HNSW index (iterative scans keep reading
    it until enough of them are the user's: `hnsw.iterative_scan` is set per connection),
    then re-ranked exactly, since a relaxed-order scan may return them slightly out of order.
    The model is inlined so that the model's partial index applies."""
    assert ranking.vector is not None
    dimensions = ranking.dimensions or len(ranking.vector)
    indexed = cast(EntryEmbedding.embedding, Vector(dimensions))
    distance = indexed.cosine_distance(ranking.vector).label("distance")
    assert ranking.model is not None
    # A constant of the deployment, never the user's: quoted as SQL, not a parameter.
    model = literal_column("'" + ranking.model.replace("'", "''") + "'", TextType)
    nearest = (
        select(EntryEmbedding.entry_id, distance)
        .where(EntryEmbedding.user_id == user_id, EntryEmbedding.model == model)
        .order_by(distance)
        .limit(depth)
        .subquery("ann")
    )
    similarity = (1 - nearest.c.distance).label("score")
    return (
        journal_queries.apply_filters(
            select(Entry.id, similarity, Entry.entry_date), user_id, filters
        )
        .join(nearest, nearest.c.entry_id == Entry.id)
        .order_by(similarity.desc(), Entry.entry_date.desc(), Entry.id.desc())
        .limit(depth)
    )


async def vector_count(session: AsyncSession, user_id: uuid.UUID, model: str, cap: int) -> int:
    """How many vectors of `model` the user has, counting no further than `cap`."""
    mine = (
        select(EntryEmbedding.entry_id)
        .where(EntryEmbedding.user_id == user_id, EntryEmbedding.model == model)
        .limit(cap)
        .subquery()
    )
    return int(await session.scalar(select(func.count()).select_from(mine)) or 0)


def _ranked_query(
    user_id: User,
    ranking: Ranking,
    filters: journal_queries.EntryFilters,
    limit: int | BindParameter[int],
) -> Select[Any]:
    """The keyword and/or semantic candidate lists, fused by reciprocal rank when both are
    asked for, then titles and snippets for the page's rows only: one statement."""
    config = journal_queries.my_search_config()
    fused = ranking.keyword_query is not None and ranking.vector is not None
    depth: Any = limit
    if fused:
        # Each list holds at least the page; parameters are given that by `ranked_statement`.
        both = isinstance(limit, int) and isinstance(ranking.depth, int)
        depth = max(ranking.depth, limit) if both else ranking.depth
    lists: dict[str, Subquery] = {}
    if ranking.keyword_query is not None:
        tsquery = func.websearch_to_tsquery(config, ranking.keyword_query)
        lists["keyword"] = _keyword_list(user_id, tsquery, filters, depth, ranking.candidates)
    if ranking.vector is not None:
        lists["semantic"] = _semantic_list(user_id, ranking, filters, depth)
    kw, sem = lists.get("keyword"), lists.get("semantic")
    if kw is not None and sem is not None:
        score = func.coalesce(1.0 / (ranking.rrf_k + kw.c.rank), 0) + func.coalesce(
            1.0 / (ranking.rrf_k + sem.c.rank), 0
        )
        source: Any = kw.join(sem, kw.c.id == sem.c.id, full=True)
        entry_id: Any = func.coalesce(kw.c.id, sem.c.id)
        entry_date: Any = func.coalesce(kw.c.entry_date, sem.c.entry_date)
    else:
        only = kw if kw is not None else sem
        assert only is not None
        score, source = only.c.score, only
        entry_id, entry_date = only.c.id, only.c.entry_date
    columns = {
        "id": entry_id.label("id"),
        "score": score.label("score"),
        "keyword_rank": (kw.c.rank if kw is not None else null()).label("keyword_rank"),
        "keyword_score": (kw.c.score if kw is not None else null()).label("keyword_score"),
        "semantic_rank": (sem.c.rank if sem is not None else null()).label("semantic_rank"),
        "similarity": (sem.c.score if sem is not None else null()).label("similarity"),
    }
    page = (
        select(*columns.values())
        .select_from(source)
        # The order of the answer (ties: newest first), so that the page holds its first rows.
        .order_by(score.desc(), entry_date.desc(), entry_id.desc())
        .limit(limit)
        .subquery("page")
    )
    headline_query = func.websearch_to_tsquery(config, ranking.headline_query)
    headline = func.ts_headline(Entry.search_config, Entry.content, headline_query, HEADLINE)
    return (
        select(Entry.title, headline.label("snippet"), Entry.entry_date, page)
        .join(page, page.c.id == Entry.id)
        .order_by(page.c.score.desc(), Entry.entry_date.desc(), Entry.id.desc())
    )


def hits_of(rows: Iterable[Any]) -> list[Hit]:
    """The hits of `_ranked_query`'s rows (SQLAlchemy's or the driver's named tuples)."""
    return [
        Hit(
            id=row.id,
            title=row.title,
            snippet=row.snippet,
            entry_date=row.entry_date,
            score=float(row.score),
            keyword_rank=row.keyword_rank,
            keyword_score=_float(row.keyword_score),
            semantic_rank=row.semantic_rank,
            similarity=_float(row.similarity),
        )
        for row in rows
    ]


async def ranked_search(
    session: AsyncSession,
    user_id: uuid.UUID,
    ranking: Ranking,
    filters: journal_queries.EntryFilters,
    limit: int,
) -> list[Hit]:
    """The page of hits `ranking` finds among the user's entries (one round trip)."""
    return hits_of(await session.execute(_ranked_query(user_id, ranking, filters, limit)))


@functools.cache
def _hot_sql(
    *, keyword: bool, model: str | None, dimensions: int, approximate: bool, rrf_k: int,
    deleted: bool,
) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """A search without filters as driver SQL, compiled once per shape (the model and the
    fusion constant are few per deployment); the user is the transaction's tenant. Its
    constant parameters."""
    words = bindparam("q", type_=TextType)
    vector = None if model is None else bindparam("vector", type_=Vector(dimensions))
    ranking = Ranking(
        keyword_query=words if keyword else None,
        headline_query=words,
        vector=vector,
        model=model,
        dimensions=dimensions,
        approximate=approximate,
        min_similarity=bindparam("min_similarity", type_=Float),
        depth=bindparam("depth", type_=Integer),
        rrf_k=rrf_k,
        candidates=bindparam("candidates", type_=Integer),
    )
    query = _ranked_query(
        func.diarist_current_user_id(),
        ranking,
        journal_queries.EntryFilters(deleted=deleted),
        bindparam("limit", type_=Integer),
    )
    return compile_for_driver(query)


def ranked_statement(words: str, ranking: Ranking, *, deleted: bool, limit: int) -> Statement:
    """`ranked_search` without filters, of `words` ranked as `ranking` says (its keyword and
    headline queries are the words), for a hot read: the user is the transaction's tenant
    (the token check's in the same round trip, or `tenant_statement`). Its rows make hits
    with `hits_of`."""
    vector = ranking.vector
    assert not isinstance(vector, BindParameter)
    sql, constants = _hot_sql(
        keyword=ranking.keyword_query is not None,
        model=None if vector is None else ranking.model,
        dimensions=0 if vector is None else len(vector),
        approximate=ranking.approximate,
        rrf_k=ranking.rrf_k,
        deleted=deleted,
    )
    assert isinstance(ranking.depth, int)
    params: dict[str, Any] = {
        **constants,
        "q": words,
        "limit": limit,
        "depth": max(ranking.depth, limit),
        "candidates": ranking.candidates,
        "min_similarity": ranking.min_similarity,
    }
    if vector is not None:
        params["vector"] = QueryVector(vector)
    return Statement(sql, params)


def keyword_statement(words: str, *, deleted: bool, limit: int, candidates: int) -> Statement:
    """A keyword search without filters (`ranked_statement` of a keyword ranking)."""
    ranking = Ranking(keyword_query=words, headline_query=words, candidates=candidates)
    return ranked_statement(words, ranking, deleted=deleted, limit=limit)


def vector_count_statement(model: str, cap: int) -> Statement:
    """`vector_count` of the transaction's tenant, for a hot read."""
    return Statement(
        "SELECT count(*) FROM (SELECT 1 FROM entry_embeddings"
        " WHERE user_id = diarist_current_user_id() AND model = %(model)s LIMIT %(cap)s) AS mine",
        {"model": model, "cap": cap},
    )


async def dated_entries(
    session: AsyncSession, user_id: uuid.UUID, filters: journal_queries.EntryFilters, limit: int
) -> list[Hit]:
    """A query of date words only ("last week"): the entries of the range as the timeline
    lists them, newest first, their opening words as the snippet."""
    rows = await journal_queries.list_entries(
        session, user_id, filters, order="entry_date", after=None, limit=limit,
        text_chars=SNIPPET_CHARS,
    )  # fmt: skip
    return [
        Hit(
            r.id,
            r.title,
            journal_queries.excerpt(r.content, SNIPPET_CHARS),
            r.entry_date,
            score=0.0,
        )
        for r in rows
    ]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


async def known_words(session: AsyncSession, user_id: uuid.UUID, words: list[str]) -> set[str]:
    """The words the user wrote, as written or as a form of one (its stem is in an entry:
    keyword search found it already, so it is no typo)."""
    rows = await session.execute(
        text(
            "SELECT w FROM unnest(CAST(:words AS text[])) AS w"
            " WHERE EXISTS (SELECT 1 FROM user_words WHERE user_id = :user AND word = w)"
            " OR EXISTS (SELECT 1 FROM search_entry_ids("
            "     plainto_tsquery(diarist_my_search_config(), w), false, 1))"
        ),
        {"user": user_id, "words": words},
    )
    return {row[0] for row in rows}


async def closest_word(
    session: AsyncSession, user_id: uuid.UUID, word: str, threshold: float
) -> str | None:
    """The user's own word most like `word` (trigram similarity), favouring frequent words."""
    row = (
        await session.execute(
            text(
                "SELECT word FROM user_words "
                "WHERE user_id = :user AND similarity(word, :word) >= :threshold "
                "ORDER BY similarity(word, :word) DESC, entry_count DESC, word LIMIT 1"
            ),
            {"user": user_id, "word": word, "threshold": threshold},
        )
    ).first()
    return str(row[0]) if row else None

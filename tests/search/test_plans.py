"""Query plans on a realistic volume, as the application role: the timeline and search use
indexes, and a user with 20,000 entries is searched without a sequential scan."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.db.engine import Database, PoolPlan, act_as, create_engine
from diarist.db.provision import DatabaseUrls, libpq_url
from diarist.journal import repository as journal_repo
from diarist.models.analysis import EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL
from diarist.search import repository as search_repo
from diarist.search.repository import Ranking
from tests.conftest import make_settings

HEAVY_ENTRIES = 20_000
LIGHT_USERS = 30
LIGHT_ENTRIES = 1_000
WORDS = [
    "garden",
    "river",
    "coffee",
    "morning",
    "walk",
    "rain",
    "bread",
    "friend",
    "work",
    "tired",
    "happy",
    "letter",
    "music",
    "train",
    "city",
    "forest",
    "lake",
    "winter",
    "summer",
    "evening",
    "family",
    "dinner",
    "book",
    "film",
    "quiet",
    "storm",
    "sunlight",
    "meeting",
    "project",
    "deadline",
    "doctor",
    "kitchen",
    "window",
    "market",
    "bicycle",
    "mountain",
    "ocean",
]

_LOAD = """
INSERT INTO entries (user_id, raw_data, format, content, content_hash, entry_date, title)
SELECT %(user)s, jsonb_build_object('text', body.text), 'text', body.text,
       sha256(convert_to(body.text, 'UTF8')),
       timestamptz '2026-01-01' - make_interval(hours => g),
       CASE WHEN g %% 7 = 0 THEN 'day ' || g END
FROM generate_series(1, %(count)s) AS g
CROSS JOIN LATERAL (
    SELECT string_agg((%(words)s::text[])[1 + floor(random() * %(nwords)s)::int], ' ')
           || CASE WHEN g %% 2000 = 0 THEN ' zeppelin' ELSE '' END AS text
    FROM generate_series(1, 60 + g %% 40) AS w
) AS body
"""


VECTOR_USERS = 5
_VECTORS = f"""
WITH pool AS (
    SELECT p, l2_normalize(array_agg(random() - 0.5)::vector) AS vector
    FROM generate_series(0, 255) AS p, generate_series(1, {EMBEDDING_DIMENSIONS})
    GROUP BY p
)
INSERT INTO entry_embeddings (user_id, entry_id, model, dimensions, embedding, content_hash)
SELECT e.user_id, e.id, '{LOCAL_EMBEDDING_MODEL}', {EMBEDDING_DIMENSIONS}, pool.vector,
       e.content_hash
FROM entries e JOIN pool ON pool.p = abs(hashtext(e.id::text)) %% 256
WHERE e.user_id = ANY(%(users)s)
"""  # noqa: S608 (constants)


@pytest.fixture(scope="module")
def loaded(
    tmp_path_factory: pytest.TempPathFactory, cluster: Any, template: None
) -> Iterator[tuple[DatabaseUrls, uuid.UUID, uuid.UUID]]:
    from diarist.config import DatabaseSettings
    from tests.fixtures.database import clone_database, drop_database

    urls = clone_database(cluster, DatabaseSettings())
    heavy = uuid.uuid4()
    with psycopg.connect(libpq_url(urls.owner), autocommit=True) as conn:
        # Plans, not vocabulary, are under test: skip the per-entry word upkeep while loading.
        conn.execute("ALTER TABLE entries DISABLE TRIGGER entries_vocabulary")
        conn.execute("ALTER TABLE entries DISABLE TRIGGER entries_vocabulary_insert")
        users = [(heavy, HEAVY_ENTRIES)] + [
            (uuid.uuid4(), LIGHT_ENTRIES) for _ in range(LIGHT_USERS)
        ]
        for user_id, count in users:
            conn.execute(
                # Never signs in: a stand-in for the sealed address and its index.
                "INSERT INTO users (id, email_sealed, email_index, name)"
                " VALUES (%s, sha256(%s::bytea), sha256(%s::bytea), 'Bulk')",
                (user_id, f"sealed:{user_id}".encode(), f"index:{user_id}".encode()),
            )
            conn.execute(
                _LOAD, {"user": user_id, "count": count, "words": WORDS, "nwords": len(WORDS)}
            )
        conn.execute("ALTER TABLE entries ENABLE TRIGGER entries_vocabulary")
        conn.execute("ALTER TABLE entries ENABLE TRIGGER entries_vocabulary_insert")
        # Unit vectors (from a pool of random ones) for the heavy user and a few others: plans,
        # not meaning, are under test.
        conn.execute(_VECTORS, {"users": [u for u, _ in users[: VECTOR_USERS + 1]]})
        conn.execute("VACUUM ANALYZE entries")
        conn.execute("VACUUM ANALYZE entry_embeddings")
        total = conn.execute("SELECT count(*) FROM entries").fetchone()
        assert total == (HEAVY_ENTRIES + LIGHT_USERS * LIGHT_ENTRIES,)
    try:
        yield urls, heavy, users[1][0]
    finally:
        assert urls.app.database is not None
        drop_database(cluster, urls.app.database)


@asynccontextmanager
async def _session_as(
    urls: DatabaseUrls, user_id: uuid.UUID, tmp_path: Path
) -> AsyncIterator[AsyncSession]:
    settings = make_settings(urls, tmp_path)
    database = Database(create_engine(urls.app, settings.db, PoolPlan(1, 0), application_name="t"))
    try:
        async with database.unit_of_work(user_id=user_id) as session:
            await act_as(session, user_id)
            yield session
    finally:
        await database.dispose()


@pytest.fixture
async def heavy_session(
    loaded: tuple[DatabaseUrls, uuid.UUID, uuid.UUID], tmp_path: Path
) -> AsyncIterator[tuple[AsyncSession, uuid.UUID]]:
    urls, heavy, _ = loaded
    async with _session_as(urls, heavy, tmp_path) as session:
        yield session, heavy


async def _explain(session: AsyncSession, run: Any) -> list[dict[str, Any]]:
    """EXPLAIN ANALYZE every statement `run` executes, exactly as the application sends it."""
    captured: list[tuple[str, Any]] = []
    sync_engine = (await session.connection()).engine.sync_engine

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(sync_engine, "before_cursor_execute", capture)
    try:
        await run()
    finally:
        event.remove(sync_engine, "before_cursor_execute", capture)
    connection = await session.connection()
    plans = []
    for statement, parameters in captured:
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        result = await connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
        )
        plans.append(
            json.loads(result.scalar_one()) if isinstance(result, str) else result.scalar_one()[0]
        )
    return plans


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _seq_scans(plans: list[dict[str, Any]]) -> list[str]:
    return [
        node.get("Relation Name", "?")
        for plan in plans
        for node in _nodes(plan["Plan"])
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") == "entries"
    ]


async def test_timeline_uses_the_index(heavy_session: tuple[AsyncSession, uuid.UUID]) -> None:
    session, heavy = heavy_session
    filters = journal_repo.EntryFilters()
    plans = await _explain(
        session,
        lambda: journal_repo.list_entries(
            session, heavy, filters, order="entry_date", after=None, limit=21, text_chars=280
        ),
    )
    assert plans
    assert _seq_scans(plans) == []
    after = (datetime.fromisoformat("2025-06-01T00:00:00+00:00"), uuid.UUID(int=0))
    deeper = await _explain(
        session,
        lambda: journal_repo.list_entries(
            session, heavy, filters, order="entry_date", after=after, limit=21, text_chars=280
        ),
    )
    assert _seq_scans(deeper) == []


def _seq_scans_of(plans: list[dict[str, Any]], table: str) -> list[str]:
    return [
        node["Relation Name"]
        for plan in plans
        for node in _nodes(plan["Plan"])
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") == table
    ]


@pytest.mark.parametrize("query", ["zeppelin", "garden coffee", '"morning walk"'])
async def test_search_of_a_20000_entry_journal_avoids_seq_scans(
    heavy_session: tuple[AsyncSession, uuid.UUID], query: str
) -> None:
    session, heavy = heavy_session
    filters = journal_repo.EntryFilters()
    ranking = Ranking(keyword_query=query, headline_query=query)
    plans = await _explain(
        session, lambda: search_repo.ranked_search(session, heavy, ranking, filters, 20)
    )
    assert plans
    assert _seq_scans(plans) == []
    assert await search_repo.ranked_search(session, heavy, ranking, filters, 20)


@pytest.mark.parametrize("plan_mode", ["force_custom_plan", "force_generic_plan"])
async def test_the_hot_keyword_statement_reads_as_the_checked_one(
    heavy_session: tuple[AsyncSession, uuid.UUID], plan_mode: str
) -> None:
    """The keyword search sent with its token check (the tenant's id and text configuration
    from SQL, server-side prepared, so later runs may use a generic plan) avoids seq scans
    and finds what `ranked_search` finds."""
    session, heavy = heavy_session
    statement = search_repo.keyword_statement(
        "garden coffee", deleted=False, limit=20, candidates=1000
    )
    connection = await session.connection()
    await connection.exec_driver_sql(f"SET LOCAL plan_cache_mode = {plan_mode}")
    explained = await connection.exec_driver_sql(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement.sql, dict(statement.params)
    )
    assert _seq_scans([explained.scalar_one()[0]]) == []
    rows = await connection.exec_driver_sql(statement.sql, dict(statement.params))
    ranking = Ranking(
        keyword_query="garden coffee", headline_query="garden coffee", candidates=1000
    )
    checked = await search_repo.ranked_search(
        session, heavy, ranking, journal_repo.EntryFilters(), 20
    )
    assert search_repo.hits_of(rows) == checked
    assert len(checked) == 20


async def test_only_the_newest_matches_are_ranked_without_filters(
    heavy_session: tuple[AsyncSession, uuid.UUID],
) -> None:
    """With `candidates`, the keyword list ranks the newest matches only: a word in most of a
    large journal does not rank them all. A filter turns the cap off (it could leave none)."""
    session, heavy = heavy_session
    words = "garden"
    newest = await session.execute(
        text(
            "SELECT id FROM entries WHERE user_id = :u AND deleted_at IS NULL"
            " AND search_vector @@ websearch_to_tsquery('english', :q)"
            " ORDER BY entry_date DESC LIMIT 30"
        ),
        {"u": heavy, "q": words},
    )
    newest_ids = {row[0] for row in newest}
    assert len(newest_ids) == 30
    capped = Ranking(keyword_query=words, headline_query=words, candidates=30)
    hits = await search_repo.ranked_search(session, heavy, capped, journal_repo.EntryFilters(), 20)
    assert len(hits) == 20
    assert {hit.id for hit in hits} <= newest_ids
    starred = journal_repo.EntryFilters(starred=False)
    filtered = await search_repo.ranked_search(session, heavy, capped, starred, 20)
    assert {hit.id for hit in filtered} - newest_ids, "with a filter, older matches rank too"


@pytest.mark.parametrize("keyword", [None, "garden coffee"])
async def test_semantic_and_hybrid_read_only_the_users_vectors(
    loaded: tuple[DatabaseUrls, uuid.UUID, uuid.UUID], tmp_path: Path, keyword: str | None
) -> None:
    """Exact k-NN over the user's own vectors through the user_id index, never a scan of
    everyone's. (For the heavy user, who owns most of this small table's vectors, a scan is
    the right plan; on a realistic table they are a few percent of it.)"""
    urls, heavy, light = loaded
    vector = [1.0 / EMBEDDING_DIMENSIONS**0.5] * EMBEDDING_DIMENSIONS
    ranking = Ranking(
        keyword_query=keyword,
        headline_query=keyword or "garden",
        vector=vector,
        model=LOCAL_EMBEDDING_MODEL,
        min_similarity=-1,
    )
    filters = journal_repo.EntryFilters()
    for user_id in (light, heavy):
        async with _session_as(urls, user_id, tmp_path) as session:
            plans = await _explain(
                session,
                lambda s=session, u=user_id: search_repo.ranked_search(s, u, ranking, filters, 10),
            )
            if user_id == light:
                assert _seq_scans_of(plans, "entry_embeddings") == []
            hits = await search_repo.ranked_search(session, user_id, ranking, filters, 10)
            assert len(hits) == 10
            if keyword is None:
                assert [hit.semantic_rank for hit in hits] == list(range(1, 11))


async def test_a_large_journal_is_searched_through_the_hnsw_index(
    heavy_session: tuple[AsyncSession, uuid.UUID],
) -> None:
    """Above `exact_max_vectors` (and without filters) semantic search reads the model's HNSW
    index with iterative scans. (Recall is measured by `make bench` on clustered vectors; these
    random ones are all about equally far from any query, the worst case for any index.)"""
    session, heavy = heavy_session
    vector = [1.0 / EMBEDDING_DIMENSIONS**0.5] * EMBEDDING_DIMENSIONS
    approximate = Ranking(
        keyword_query=None, headline_query="garden",
        vector=vector, model=LOCAL_EMBEDDING_MODEL, min_similarity=-1, approximate=True,
    )  # fmt: skip
    filters = journal_repo.EntryFilters()
    plans = await _explain(
        session, lambda: search_repo.ranked_search(session, heavy, approximate, filters, 10)
    )
    indexes = {node.get("Index Name") for plan in plans for node in _nodes(plan["Plan"])}
    assert "ix_entry_embeddings_hnsw_minilm" in indexes
    found = await search_repo.ranked_search(session, heavy, approximate, filters, 10)
    assert [hit.semantic_rank for hit in found] == list(range(1, 11))
    similarities = [hit.similarity or 0.0 for hit in found]
    assert similarities == sorted(similarities, reverse=True), "re-ranked exactly"
    assert all(hit.keyword_rank is None for hit in found)


@pytest.mark.parametrize("query", ["zeppelin", "garden coffee"])
def test_a_keyword_match_reads_only_the_users_postings(
    loaded: tuple[DatabaseUrls, uuid.UUID, uuid.UUID], query: str
) -> None:
    """The match inside `search_entry_ids()`: the (user_id, search_vector) GIN index, so a
    common word costs the user's matches, not everyone's."""
    urls, heavy, light = loaded
    statement = (
        "EXPLAIN (ANALYZE, FORMAT JSON) SELECT e.id FROM entries e WHERE e.user_id = %s "
        "AND e.search_vector @@ websearch_to_tsquery('english', %s) AND e.deleted_at IS NULL"
    )
    with psycopg.connect(libpq_url(urls.owner)) as conn:
        row = conn.execute(statement, (light, query)).fetchone()
        assert row is not None
        plan = row[0][0]
        indexes = {node.get("Index Name") for node in _nodes(plan["Plan"])}
        assert "ix_entries_user_id_search_vector" in indexes, plan["Plan"]["Node Type"]
        # (The heavy user owns 40 % of this small table: for a word in most of their
        # entries, reading the table is the cheaper plan, and PostgreSQL takes it.)
        assert conn.execute(statement, (heavy, query)).fetchone() is not None

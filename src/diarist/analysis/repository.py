"""Every query of the analysis pipeline. Tasks run under the entry owner's RLS context; only the
sweeper and the retention purge (cross-user) run as the system role."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.analysis import jobs
from diarist.db.jobs import no_live_job_sql
from diarist.models import Entry, EntryEmbedding, EntryTopic, ProcessedContent, Topic

# An entry `e` with no analysis job waiting or running (one place for the sweeper, the model
# switch and the backfill).
_NO_LIVE_JOB = no_live_job_sql(jobs.ANALYZE_ENTRY, "entry_id", "e.id::text")


async def entry_for_analysis(
    session: AsyncSession, entry_id: uuid.UUID, *, lock: bool = False
) -> Entry | None:
    query = select(Entry).where(Entry.id == entry_id, Entry.deleted_at.is_(None))
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def set_status(
    session: AsyncSession, entry_id: uuid.UUID, *, only_for_hash: bytes | None = None, **values: Any
) -> None:
    """Analysis bookkeeping only: never the version, ETag or updated_at of the user's entry.
    With `only_for_hash`, only while the entry's text is still that one."""
    statement = update(Entry).where(Entry.id == entry_id)
    if only_for_hash is not None:
        statement = statement.where(Entry.content_hash == only_for_hash)
    await session.execute(statement.values(**values))


async def has_result(
    session: AsyncSession, entry_id: uuid.UUID, task_type: str, content_hash: bytes
) -> bool:
    found = await session.scalar(
        select(ProcessedContent.id).where(
            ProcessedContent.entry_id == entry_id,
            ProcessedContent.task_type == task_type,
            ProcessedContent.content_hash == content_hash,
        )
    )
    return found is not None


async def has_embedding(
    session: AsyncSession, entry_id: uuid.UUID, model: str, content_hash: bytes
) -> bool:
    found = await session.scalar(
        select(EntryEmbedding.entry_id).where(
            EntryEmbedding.entry_id == entry_id,
            EntryEmbedding.model == model,
            EntryEmbedding.content_hash == content_hash,
        )
    )
    return found is not None


async def missing_remote_vectors(
    session: AsyncSession, model: str, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Analysed entries of users who allow the remote provider, without a current vector of
    `model` and without a queued job (system role)."""
    rows = await session.execute(
        text(
            f"""
            SELECT e.id, e.user_id FROM entries e JOIN users u ON u.id = e.user_id
            WHERE e.deleted_at IS NULL AND e.processing_status = 'completed'
              AND coalesce((u.preferences -> 'ai_processing' ->> 'enabled')::boolean, true)
              AND (u.preferences -> 'ai_processing' -> 'providers') ? 'openai'
              AND NOT EXISTS (
                  SELECT 1 FROM entry_embeddings m
                  WHERE m.entry_id = e.id AND m.model = :model
                    AND m.content_hash = e.content_hash)
              AND {_NO_LIVE_JOB}
            ORDER BY e.id
            LIMIT :limit
            """  # noqa: S608 - composed of module constants only
        ),
        {"model": model, "limit": limit},
    )
    return [(row[0], row[1]) for row in rows]


async def forget_analysis(session: AsyncSession, entry_id: uuid.UUID) -> None:
    """Everything derived from the entry's text: results, embeddings, topic links."""
    for model in (ProcessedContent, EntryEmbedding, EntryTopic):
        await session.execute(delete(model).where(model.entry_id == entry_id))
    await session.execute(update(Entry).where(Entry.id == entry_id).values(analyzed_hash=None))


async def save_result(
    session: AsyncSession, values: dict[str, Any], *, force: bool = False
) -> None:
    """Upsert one task's result; the same content hash again changes nothing (idempotent)
    unless `force` (a re-analysis asked for by the user or an upgrade)."""
    statement = pg_insert(ProcessedContent).values(**values)
    excluded = statement.excluded
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ProcessedContent.entry_id, ProcessedContent.task_type],
            set_={
                "content_hash": excluded.content_hash,
                "processed_data": excluded.processed_data,
                "confidence": excluded.confidence,
                "provider_info": excluded.provider_info,
                "created_at": excluded.created_at,
                "expires_at": excluded.expires_at,
            },
            where=None if force else ProcessedContent.content_hash != excluded.content_hash,
        )
    )


async def save_embedding(
    session: AsyncSession, values: dict[str, Any], *, force: bool = False
) -> None:
    statement = pg_insert(EntryEmbedding).values(**values)
    excluded = statement.excluded
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[EntryEmbedding.entry_id, EntryEmbedding.model],
            set_={
                "embedding": excluded.embedding,
                "dimensions": excluded.dimensions,
                "content_hash": excluded.content_hash,
                "created_at": excluded.created_at,
            },
            where=None if force else EntryEmbedding.content_hash != excluded.content_hash,
        )
    )


async def mark_requested(session: AsyncSession, entry_ids: list[uuid.UUID], force: bool) -> None:
    """Many entries back to `pending` in one statement (bookkeeping only)."""
    values: dict[str, Any] = {
        "processing_status": "pending",
        "analysis_requested_at": func.now(),
        "analysis_attempts": 0,
        "analysis_error": None,
    }
    if force:
        values["analyzed_hash"] = None
    await session.execute(update(Entry).where(Entry.id.in_(entry_ids)).values(**values))


async def stuck_entries(
    session: AsyncSession, requested_before: datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(entry, user) pending or processing since before `requested_before` with no live job
    (system role: every user)."""
    rows = await session.execute(
        text(
            f"""
            SELECT e.id, e.user_id FROM entries e
            WHERE e.processing_status IN ('pending', 'processing')
              AND e.deleted_at IS NULL
              AND e.analysis_requested_at < :before
              AND {_NO_LIVE_JOB}
            ORDER BY e.analysis_requested_at
            LIMIT :limit
            """  # noqa: S608 - composed of module constants only
        ),
        {"before": requested_before, "limit": limit},
    )
    return [(row[0], row[1]) for row in rows]


async def purge_expired_results(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        delete(ProcessedContent).where(ProcessedContent.expires_at < now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def status_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        text("SELECT processing_status, count(*) FROM entries WHERE deleted_at IS NULL GROUP BY 1")
    )
    return {row[0]: row[1] for row in rows}


async def backfill_targets(
    session: AsyncSession, everything: bool
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    rows = await session.execute(
        text(
            f"""
            SELECT e.id, e.user_id FROM entries e
            WHERE e.deleted_at IS NULL AND (:everything OR e.analyzed_hash IS NULL)
              AND {_NO_LIVE_JOB}
            ORDER BY e.id
            """  # noqa: S608 - composed of module constants only
        ),
        {"everything": everything},
    )
    return [(row[0], row[1]) for row in rows]


# --- topics and tag suggestions ---------------------------------------------------------------

_LINK_TOPICS = text(
    """
    WITH keyed AS (
        SELECT DISTINCT ON (key) key, keyword, relevance
        FROM (
            SELECT k.keyword, k.relevance,
                   array_to_string(tsvector_to_array(
                       to_tsvector(CAST(:config AS regconfig), k.keyword)), ' ') AS key
            FROM jsonb_to_recordset(CAST(:keywords AS jsonb)) AS k(keyword text, relevance real)
        ) words
        WHERE key <> ''
        ORDER BY key, relevance DESC
    ),
    found AS (
        SELECT k.key, coalesce(
            (SELECT t.id FROM topics t WHERE t.user_id = :user AND t.topic_key = k.key),
            (SELECT t.id FROM topics t WHERE t.user_id = :user AND k.key = ANY (t.aliases)
             ORDER BY t.id LIMIT 1)) AS topic_id
        FROM keyed k
    ),
    created AS (
        INSERT INTO topics (user_id, name, topic_key)
        SELECT :user, left(k.keyword, 100), k.key
        FROM keyed k JOIN found f USING (key)
        WHERE f.topic_id IS NULL
        ORDER BY k.key
        ON CONFLICT (user_id, topic_key) DO UPDATE SET topic_key = EXCLUDED.topic_key
        RETURNING id, topic_key
    )
    INSERT INTO entry_topics (user_id, entry_id, topic_id, relevance)
    SELECT :user, :entry, coalesce(f.topic_id, c.id), max(k.relevance)
    FROM keyed k JOIN found f USING (key) LEFT JOIN created c ON c.topic_key = k.key
    GROUP BY coalesce(f.topic_id, c.id)
    ORDER BY 3
    ON CONFLICT (entry_id, topic_id) DO UPDATE SET relevance = EXCLUDED.relevance
    """
)


async def link_topics(
    session: AsyncSession,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    config: str,
    keywords: list[tuple[str, float]],
) -> None:
    """Replace the entry's topics by those of its keywords (two statements): a keyword joins
    the topic whose key (stemmed words) or alias matches, or founds a new one. New topics are
    inserted in key order, so concurrent jobs of one user take locks in one order."""
    await session.execute(
        text("DELETE FROM entry_topics WHERE entry_id = :entry"), {"entry": entry_id}
    )
    if not keywords:
        return
    await session.execute(
        _LINK_TOPICS,
        {
            "user": user_id,
            "entry": entry_id,
            "config": config,
            "keywords": json.dumps([{"keyword": k, "relevance": r} for k, r in keywords]),
        },
    )


async def list_topics(
    session: AsyncSession, user_id: uuid.UUID, *, min_entries: int, include_hidden: bool, limit: int
) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            """
            SELECT t.id, t.name, t.hidden, count(*) AS entries, avg(et.relevance) AS relevance
            FROM topics t
            JOIN entry_topics et ON et.topic_id = t.id
            JOIN entries e ON e.id = et.entry_id AND e.deleted_at IS NULL
            WHERE t.user_id = :user AND (:hidden OR NOT t.hidden)
            GROUP BY t.id
            HAVING count(*) >= :min
            ORDER BY entries DESC, relevance DESC, t.name
            LIMIT :limit
            """
        ),
        {"user": user_id, "hidden": include_hidden, "min": min_entries, "limit": limit},
    )
    return [dict(row._mapping) for row in rows]


async def get_topic(session: AsyncSession, user_id: uuid.UUID, topic_id: uuid.UUID) -> Topic | None:
    query = select(Topic).where(Topic.user_id == user_id, Topic.id == topic_id)
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def merge_topics(session: AsyncSession, source: Topic, target: Topic) -> None:
    """Fold `source` into `target`: its entries, and its keys as aliases of the target."""
    await session.execute(
        text(
            "INSERT INTO entry_topics (user_id, entry_id, topic_id, relevance) "
            "SELECT user_id, entry_id, :target, relevance FROM entry_topics "
            "WHERE topic_id = :source "
            "ON CONFLICT (entry_id, topic_id) DO UPDATE "
            "SET relevance = greatest(entry_topics.relevance, EXCLUDED.relevance)"
        ),
        {"source": source.id, "target": target.id},
    )
    target.aliases = sorted({*target.aliases, source.topic_key, *source.aliases})
    await session.execute(delete(Topic).where(Topic.id == source.id))
    await session.flush()


async def tag_suggestions(
    session: AsyncSession, user_id: uuid.UUID, entry_id: uuid.UUID, model: str, config: str
) -> list[dict[str, Any]]:
    """My tags that fit the entry and it does not carry yet, with why: a topic of the entry
    whose stemmed words equal the tag's, and tags of the entries nearest in meaning."""
    rows = await session.execute(
        text(
            """
            WITH mine AS (
                SELECT tag_id FROM entry_tags WHERE entry_id = :entry
            ),
            by_topic AS (
                SELECT tg.id AS tag_id, 0.5 + 0.5 * max(et.relevance) AS score, 'topic' AS reason
                FROM entry_topics et
                JOIN topics t ON t.id = et.topic_id
                JOIN tags tg ON tg.user_id = :user
                 AND array_to_string(tsvector_to_array(
                         to_tsvector(CAST(:config AS regconfig), tg.name)), ' ') IN (
                     SELECT t.topic_key UNION ALL SELECT unnest(t.aliases))
                WHERE et.entry_id = :entry
                GROUP BY tg.id
            ),
            me AS (
                SELECT embedding FROM entry_embeddings WHERE entry_id = :entry AND model = :model
            ),
            near AS (
                SELECT ee.entry_id, 1 - (ee.embedding <=> (SELECT embedding FROM me)) AS similarity
                FROM entry_embeddings ee
                JOIN entries e ON e.id = ee.entry_id AND e.deleted_at IS NULL
                WHERE ee.user_id = :user AND ee.model = :model AND ee.entry_id <> :entry
                ORDER BY ee.embedding <=> (SELECT embedding FROM me)
                LIMIT 10
            ),
            alike AS (SELECT * FROM near WHERE similarity >= 0.5),
            by_neighbours AS (
                -- How alike the tagged neighbours are, weighted by their share of the similar
                -- ones (at least three count, so one lookalike is not proof).
                SELECT et.tag_id,
                       sum(s.similarity) / greatest((SELECT count(*) FROM alike), 3) AS score,
                       'similar entries' AS reason
                FROM alike s JOIN entry_tags et ON et.entry_id = s.entry_id
                GROUP BY et.tag_id
            ),
            scored AS (
                SELECT tag_id, least(1.0, max(score)) AS confidence, array_agg(reason) AS reasons
                FROM (SELECT * FROM by_topic UNION ALL SELECT * FROM by_neighbours) s
                WHERE tag_id NOT IN (SELECT tag_id FROM mine)
                GROUP BY tag_id
            )
            SELECT s.tag_id, tg.name, tg.auto_apply, s.confidence, s.reasons
            FROM scored s JOIN tags tg ON tg.id = s.tag_id
            ORDER BY s.confidence DESC, tg.name
            LIMIT 10
            """
        ),
        {"entry": entry_id, "user": user_id, "model": model, "config": config},
    )
    return [dict(row._mapping) for row in rows]


async def assign_tag(
    session: AsyncSession,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    tag_id: uuid.UUID,
    assignment_type: str,
    context: dict[str, Any],
) -> bool:
    """Put a tag on an entry with its provenance; False if it was there already."""
    result = await session.execute(
        text(
            "INSERT INTO entry_tags "
            "(user_id, entry_id, tag_id, assignment_type, assignment_context) "
            "VALUES (:user, :entry, :tag, :kind, CAST(:context AS jsonb)) "
            "ON CONFLICT DO NOTHING"
        ),
        {
            "user": user_id,
            "entry": entry_id,
            "tag": tag_id,
            "kind": assignment_type,
            "context": json.dumps(context),
        },
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]

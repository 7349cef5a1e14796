"""Queries of topics: linking an entry to the topics of its keywords, listing, merging."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.models import Topic

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
    """The user's topics with their count of live entries and mean relevance."""
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
    """One of the user's topics, freshly loaded."""
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

"""Queries of tag suggestions: the tags that fit an entry, and putting one on it."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


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

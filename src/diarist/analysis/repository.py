"""Every query of the analysis pipeline. Tasks run under the entry owner's RLS context; only the
sweeper and the retention purge (cross-user) run as the system role."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.models import Entry, EntryEmbedding, ProcessedContent


async def entry_for_analysis(
    session: AsyncSession, entry_id: uuid.UUID, *, lock: bool = False
) -> Entry | None:
    query = select(Entry).where(Entry.id == entry_id, Entry.deleted_at.is_(None))
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def set_status(session: AsyncSession, entry_id: uuid.UUID, **values: Any) -> None:
    """Analysis bookkeeping only: never the version, ETag or updated_at of the user's entry."""
    await session.execute(update(Entry).where(Entry.id == entry_id).values(**values))


async def save_result(session: AsyncSession, values: dict[str, Any]) -> None:
    """Upsert one task's result; the same content hash again changes nothing (idempotent)."""
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
            where=ProcessedContent.content_hash != excluded.content_hash,
        )
    )


async def save_embedding(session: AsyncSession, values: dict[str, Any]) -> None:
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
            where=EntryEmbedding.content_hash != excluded.content_hash,
        )
    )


async def results_for(
    session: AsyncSession, entry_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, dict[str, Any]]]:
    """{entry: {task_type: processed_data}} for many entries in one query."""
    if not entry_ids:
        return {}
    rows = await session.execute(
        select(
            ProcessedContent.entry_id, ProcessedContent.task_type, ProcessedContent.processed_data
        ).where(ProcessedContent.entry_id.in_(entry_ids))
    )
    found: dict[uuid.UUID, dict[str, dict[str, Any]]] = {}
    for entry_id, task_type, data in rows:
        found.setdefault(entry_id, {})[task_type] = data
    return found


async def stuck_entries(
    session: AsyncSession, requested_before: datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(entry, user) pending or processing since before `requested_before` with no live job
    (system role: every user)."""
    rows = await session.execute(
        text(
            """
            SELECT e.id, e.user_id FROM entries e
            WHERE e.processing_status IN ('pending', 'processing')
              AND e.deleted_at IS NULL
              AND e.analysis_requested_at < :before
              AND NOT EXISTS (
                  SELECT 1 FROM procrastinate_jobs j
                  WHERE j.task_name = 'analysis:analyze_entry'
                    AND j.status IN ('todo', 'doing')
                    AND j.args ->> 'entry_id' = e.id::text)
            ORDER BY e.analysis_requested_at
            LIMIT :limit
            """
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
    query = select(Entry.id, Entry.user_id).where(Entry.deleted_at.is_(None))
    if not everything:
        query = query.where(Entry.analyzed_hash.is_(None))
    rows = await session.execute(query.order_by(Entry.id))
    return [(row[0], row[1]) for row in rows]


async def queue_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        text(
            "SELECT status::text, count(*) FROM procrastinate_jobs "
            "WHERE task_name = 'analysis:analyze_entry' GROUP BY 1"
        )
    )
    return {row[0]: row[1] for row in rows}

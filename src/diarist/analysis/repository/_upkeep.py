"""Queries of the upkeep, across users (system role): entries left with no job, entries
without the active remote model's vector, expired results, backfill and counts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.analysis import jobs
from diarist.db.jobs import no_live_job_sql
from diarist.models import ProcessedContent

# An entry `e` with no analysis job waiting or running (one place for the sweeper, the model
# switch and the backfill), nor named by a waiting batch job of an import (which will defer
# its job): the batch is found by its user through diarist_jobs_waiting_by_user (`todo` only,
# the index's condition), then searched for the entry.
_IN_NO_BATCH = (
    "NOT EXISTS (SELECT 1 FROM procrastinate_jobs b "  # noqa: S608 - our own constants
    f"WHERE b.task_name = '{jobs.ANALYZE_BATCH.task_name}' AND b.status = 'todo' "
    "AND b.args ->> 'user_id' = e.user_id::text AND b.args -> 'entry_ids' ? e.id::text)"
)
_NO_LIVE_JOB = (
    no_live_job_sql(jobs.ANALYZE_ENTRY, "entry_id", "e.id::text") + " AND " + _IN_NO_BATCH
)


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
    """Delete results that expired before `now`; how many (system role)."""
    result = await session.execute(
        delete(ProcessedContent).where(ProcessedContent.expires_at < now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def status_counts(session: AsyncSession) -> dict[str, int]:
    """Live entries by processing status (system role)."""
    rows = await session.execute(
        text("SELECT processing_status, count(*) FROM entries WHERE deleted_at IS NULL GROUP BY 1")
    )
    return {row[0]: row[1] for row in rows}


async def backfill_targets(
    session: AsyncSession, everything: bool
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(entry, user) of live entries never analysed, or of all (`everything`), with no live job."""
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

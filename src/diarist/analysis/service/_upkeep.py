"""Upkeep (system role): revive jobs of dead workers, re-queue entries left with no job, purge
expired results, backfill, and the counts operators look at."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import procrastinate
import structlog
from procrastinate.jobs import Status
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.analysis import jobs
from diarist.analysis import repository as repo
from diarist.analysis.service._pipeline import defer_analysis
from diarist.config import AnalysisSettings
from diarist.db.jobs import count_jobs_by_status
from diarist.models.analysis import remote_model_name

_log = structlog.get_logger("diarist.analysis")


async def revive_stalled_jobs(
    app: procrastinate.App, session: AsyncSession, settings: AnalysisSettings
) -> int:
    """Retry now every job whose worker stopped sending heartbeats (killed, lost) — within
    the attempt limit: a job that keeps killing its worker ends `failed` (system role)."""
    stalled = list(
        await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.stalled_after_s)
    )
    revived = 0
    for job in stalled:
        if job.attempts + 1 >= settings.max_attempts:
            await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
            if job.task_name == jobs.ANALYZE_ENTRY.task_name:
                await repo.set_status(
                    session,
                    uuid.UUID(str(job.task_kwargs["entry_id"])),
                    processing_status="failed",
                    analysis_error="WorkerLost: the worker stopped while analysing",
                )
            continue
        await app.job_manager.retry_job(job, retry_at=datetime.now(UTC))
        revived += 1
    if stalled:
        _log.warning("stalled_jobs", revived=revived, failed=len(stalled) - revived)
    return revived


async def requeue_stuck(session: AsyncSession, settings: AnalysisSettings) -> int:
    """Queue again entries left pending or processing with no job, and — while a remote
    embedding model is active — entries of consenting users that lack its vector (that is how
    switching models re-embeds in the background). System role."""
    before = datetime.now(UTC) - timedelta(minutes=settings.stuck_after_minutes)
    stuck = await repo.stuck_entries(session, before, limit=1000)
    model = settings.openai.embedding_model
    if settings.embedding_provider == "openai" and model:
        missing = await repo.missing_remote_vectors(session, remote_model_name(model), limit=1000)
        stuck += [target for target in missing if target not in stuck]
    if stuck:
        await repo.mark_requested(session, [entry_id for entry_id, _ in stuck], force=False)
        await defer_analysis(session, stuck, force=False)
    return len(stuck)


async def purge_expired_results(session: AsyncSession) -> int:
    """Delete results past their retention (`result_ttl_days`); how many (system role)."""
    return await repo.purge_expired_results(session, datetime.now(UTC))


async def backfill_targets(
    session: AsyncSession, everything: bool
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(entry, user) of live entries never analysed, or all of them (system role)."""
    return await repo.backfill_targets(session, everything)


async def queue_many(session: AsyncSession, targets: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """Queue analysis (forced) for many entries in one transaction (system role)."""
    await repo.mark_requested(session, [entry_id for entry_id, _ in targets], force=True)
    await defer_analysis(session, targets, force=True)


async def queue_counts(session: AsyncSession) -> dict[str, int]:
    """Analysis jobs by procrastinate status, and an import's batch jobs (each queues the jobs
    of up to 500 entries when it runs) as `<status> (batches)` (system role)."""
    batches = await count_jobs_by_status(session, jobs.ANALYZE_BATCH)
    return await count_jobs_by_status(session, jobs.ANALYZE_ENTRY) | {
        f"{status} (batches)": count for status, count in batches.items()
    }


async def status_counts(session: AsyncSession) -> dict[str, int]:
    """Live entries by processing status (system role)."""
    return await repo.status_counts(session)

"""Background work of analysis: one job per entry and text, and periodic upkeep."""

from __future__ import annotations

import asyncio
import uuid

import procrastinate
import structlog
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision

from diarist.analysis import jobs
from diarist.analysis import service as analysis_service
from diarist.analysis.openai import OpenAIClient
from diarist.config import OpenAISettings
from diarist.db.jobs import worker_resources

blueprint = procrastinate.Blueprint()
_log = structlog.get_logger("diarist.analysis.tasks")


_clients: dict[str, OpenAIClient] = {}


def _client(settings: OpenAISettings) -> OpenAIClient | None:
    """The process's client of the OpenAI-compatible endpoint, if one is configured."""
    if not settings.base_url:
        return None
    key = settings.model_dump_json()
    if key not in _clients:
        _clients[key] = OpenAIClient(settings)
    return _clients[key]


class SettingsRetry(BaseRetryStrategy):
    """Exponential backoff with the attempt limit and base from the worker's settings."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        settings = worker_resources().settings.analysis
        attempts = job.attempts + 1
        if attempts >= settings.max_attempts:
            return None
        wait = settings.retry_base_s * 2 ** (attempts - 1)
        return RetryDecision(retry_in={"seconds": wait})


@blueprint.task(
    name=jobs.ANALYZE_ENTRY.name,
    queue=jobs.ANALYZE_ENTRY.queue,
    retry=SettingsRetry(),
    pass_context=True,
)
async def analyze_entry(
    context: procrastinate.JobContext, entry_id: str, user_id: str, force: bool = False
) -> str:
    """Analyse one entry under its owner's RLS context."""
    # Imported here: API processes import this module (to defer jobs) but never load models.
    from diarist.analysis.local import get_local_analyzer

    resources = worker_resources()
    # The first job of a process loads the models (seconds): off the event loop, so that
    # heartbeats and other jobs go on meanwhile.
    analyzer = await asyncio.to_thread(get_local_analyzer, resources.settings.analysis.onnx_threads)
    assert context.job is not None
    outcome = await analysis_service.analyze_entry(
        resources.database,
        analyzer,
        resources.settings.analysis,
        uuid.UUID(entry_id),
        uuid.UUID(user_id),
        attempt=context.job.attempts + 1,
        client=_client(resources.settings.analysis.openai),
        force=force,
    )
    _log.info("entry_analysed", entry_id=entry_id, outcome=outcome.status)
    return outcome.status


@blueprint.task(name=jobs.ANALYZE_BATCH.name, queue=jobs.ANALYZE_BATCH.queue, retry=SettingsRetry())
async def analyze_batch(user_id: str, entry_ids: list[str]) -> int:
    """Defer the analysis job of each of many new entries of one user (an import's batch)."""
    deferred = await analysis_service.defer_entry_analyses(
        worker_resources().database, uuid.UUID(user_id), [uuid.UUID(e) for e in entry_ids]
    )
    _log.info("batch_analysis_deferred", entries=deferred)
    return deferred


@blueprint.periodic(cron="*/5 * * * *")
@blueprint.task(
    name=jobs.SWEEP.name, queue=jobs.SWEEP.queue, queueing_lock="analysis_sweep", pass_context=True
)
async def sweep(context: procrastinate.JobContext, timestamp: int) -> int:
    """Every 5 minutes: retry jobs of workers that died, queue entries that have no job."""
    resources = worker_resources()
    async with resources.system_database.unit_of_work() as session:
        revived = await analysis_service.revive_stalled_jobs(
            context.app, session, resources.settings.analysis
        )
    async with resources.system_database.unit_of_work() as session:
        queued = await analysis_service.requeue_stuck(session, resources.settings.analysis)
        expired = await analysis_service.purge_expired_results(session)
    _log.info("analysis_swept", stalled=revived, requeued=queued, expired=expired)
    return revived + queued

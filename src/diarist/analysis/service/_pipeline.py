"""The pipeline: request analysis with the write that needs it, run it once per text (by
content hash) in transactions of its own, and record failures."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from procrastinate.types import JSONValue
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import preferences as preferences_api
from diarist.analysis import jobs
from diarist.analysis import repository as repo
from diarist.analysis.bounds import analysed_text
from diarist.analysis.results import Analysis, TaskResult
from diarist.analysis.service._suggestions import apply_auto_rules
from diarist.config import AnalysisSettings
from diarist.db.engine import Database
from diarist.db.jobs import Deferral, defer_all
from diarist.insights import statistics as insights_statistics
from diarist.models.analysis import LOCAL_EMBEDDING_MODEL

if TYPE_CHECKING:  # the models load in the job worker only, never in an API process
    from diarist.analysis.local import LocalAnalyzer
    from diarist.analysis.openai import OpenAIClient

_log = structlog.get_logger("diarist.analysis")


async def request_analysis(
    session: AsyncSession,
    entry_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    new: bool = False,
    force: bool = False,
) -> None:
    """Queue the entry's analysis in the caller's transaction (it exists only on commit).
    A new entry is pending already; `force` re-runs even for an unchanged text."""
    if not new:
        await repo.mark_requested(session, [entry_id], force)
    await defer_analysis(session, [(entry_id, user_id)], force)


async def defer_analysis(
    session: AsyncSession, targets: list[tuple[uuid.UUID, uuid.UUID]], force: bool
) -> None:
    """Queue the analysis of each (entry, user) in the caller's transaction."""
    await defer_all(session, [analysis_deferral(e, u, force=force) for e, u in targets])


async def defer_batch_analysis(
    session: AsyncSession, user_id: uuid.UUID, entry_ids: list[uuid.UUID]
) -> None:
    """Queue the analysis of many new entries of one user (an import's batch) as one job in
    the caller's transaction: the batch's write defers one job instead of one per entry, and
    the worker defers each entry's own job when it comes to it (`defer_entry_analyses`)."""
    if entry_ids:
        args: dict[str, JSONValue] = {
            "user_id": str(user_id),
            "entry_ids": [str(entry_id) for entry_id in entry_ids],
        }
        await defer_all(session, [Deferral(jobs.ANALYZE_BATCH, args)])


async def defer_entry_analyses(
    database: Database, user_id: uuid.UUID, entry_ids: list[uuid.UUID]
) -> int:
    """The worker's side of `defer_batch_analysis`: the analysis job of each entry that still
    waits for one, deferred as its owner in one transaction; how many. Entries gone meanwhile
    (or the account) are left out, so a deleted account gets no jobs naming it, and a batch
    run twice (retried, revived) defers nothing for entries analysed since."""
    async with database.unit_of_work(user_id=user_id) as session:
        waiting = await repo.awaiting_analysis(session, entry_ids)
        await defer_analysis(session, [(entry_id, user_id) for entry_id in waiting], False)
    return len(waiting)


def analysis_deferral(entry_id: uuid.UUID, user_id: uuid.UUID, *, force: bool = False) -> Deferral:
    """The job that analyses an entry. One lock per entry: its jobs run one after another, so
    a burst of edits is analysed once (the later jobs find the text analysed already)."""
    args: dict[str, JSONValue] = {
        "entry_id": str(entry_id),
        "user_id": str(user_id),
        "force": force,
    }
    return Deferral(jobs.ANALYZE_ENTRY, args, lock=f"entry_id:{entry_id}")


@dataclass(frozen=True)
class Outcome:
    """What one run of `analyze_entry` did."""

    status: str  # completed | unchanged | gone | disabled | superseded


async def analyze_entry(
    database: Database,
    analyzer: LocalAnalyzer,
    settings: AnalysisSettings,
    entry_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    attempt: int,
    client: OpenAIClient | None = None,
    force: bool = False,
) -> Outcome:
    """Analyse one entry as its owner. Safe to run twice: an unchanged text is skipped and
    results are written only for the entry's current text. Raises on failure (the task
    retries); the failure is recorded only while the text is the one that failed."""
    async with database.unit_of_work(user_id=user_id) as session:
        entry = await repo.entry_for_analysis(session, entry_id, lock=True)
        if entry is None:
            return Outcome("gone")
        text, content_hash = analysed_text(entry.content), entry.content_hash
        preferences = await preferences_api.preferences_of(session, user_id)
        if not preferences.analysis_enabled:
            # Opted out: nothing derived from the text stays behind, or is shown as current.
            await repo.forget_analysis(session, entry_id)
            await repo.set_status(session, entry_id, processing_status="completed")
            await insights_statistics.request_refresh(session, user_id)  # results are gone
            return Outcome("disabled")
        remote = client is not None and preferences.allows_remote_analysis
        wants_reflection = remote and settings.openai.reflections
        remote_model = preferences.embedding_model(settings)
        wants_remote_vector = remote and remote_model != LOCAL_EMBEDDING_MODEL
        local_done = entry.analyzed_hash == content_hash and not force
        reflection_done = not wants_reflection or (
            not force and await repo.has_result(session, entry_id, "reflection", content_hash)
        )
        vector_done = not wants_remote_vector or (
            not force and await repo.has_embedding(session, entry_id, remote_model, content_hash)
        )
        if local_done and reflection_done and vector_done:
            if entry.processing_status != "completed":
                await repo.set_status(session, entry_id, processing_status="completed")
            return Outcome("unchanged")
        first_analysis = entry.analyzed_hash is None
        config = str(entry.search_config)
        language = preferences.language
        await repo.set_status(
            session, entry_id, processing_status="processing", analysis_attempts=attempt
        )
    try:
        async with asyncio.timeout(settings.job_timeout_s):
            if not local_done:
                analysis = await asyncio.to_thread(analyzer.analyze, text, language)
                saved = await _save_local(
                    database, settings, user_id, entry_id, content_hash, config, analysis,
                    auto_rules=first_analysis, force=force,
                )  # fmt: skip
                if not saved:
                    return Outcome("superseded")  # edited meanwhile; its own job is queued
            if not vector_done:
                assert client is not None
                vector = (await client.embed([text]))[0]
                if not await _save_remote_vector(
                    database, user_id, entry_id, content_hash, remote_model, vector
                ):
                    return Outcome("superseded")
            if not reflection_done:
                assert client is not None
                reflection = await client.reflect(text)
                if not await _save_results(
                    database, settings, user_id, entry_id, content_hash, [reflection], force=True
                ):
                    return Outcome("superseded")
    except Exception as exc:
        final = attempt >= settings.max_attempts
        reason = str(exc)[:300]
        if isinstance(exc, TimeoutError) and not reason:
            reason = f"the run took longer than {settings.job_timeout_s:g} s"
        async with database.unit_of_work(user_id=user_id) as session:
            await repo.set_status(
                session,
                entry_id,
                only_for_hash=content_hash,
                processing_status="failed" if final else "pending",
                analysis_error=f"{type(exc).__name__}: {reason}",
            )
        _log.warning("analysis_failed", entry_id=str(entry_id), attempt=attempt, final=final)
        raise
    async with database.unit_of_work(user_id=user_id) as session:
        await repo.set_status(
            session,
            entry_id,
            only_for_hash=content_hash,
            processing_status="completed",
            analysis_error=None,
        )
    return Outcome("completed")


def _rows(
    settings: AnalysisSettings,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    content_hash: bytes,
    results: list[TaskResult],
) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    expires = now + timedelta(days=settings.result_ttl_days) if settings.result_ttl_days else None
    return [
        {
            "user_id": user_id,
            "entry_id": entry_id,
            "task_type": result.task_type,
            "content_hash": content_hash,
            "processed_data": result.data,
            "confidence": result.confidence,
            "provider_info": result.provider_info,
            "created_at": now,
            "expires_at": expires,
        }
        for result in results
    ]


async def _save_results(
    database: Database,
    settings: AnalysisSettings,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    content_hash: bytes,
    results: list[TaskResult],
    *,
    force: bool,
) -> bool:
    """Store results of `content_hash` if it is still the entry's text; False otherwise."""
    async with database.unit_of_work(user_id=user_id) as session:
        current = await repo.entry_for_analysis(session, entry_id, lock=True)
        if current is None or current.content_hash != content_hash:
            return False
        for row in _rows(settings, user_id, entry_id, content_hash, results):
            await repo.save_result(session, row, force=force)
        # Results feed the statistics (their triggers marked the entry's day): drain it.
        await insights_statistics.request_refresh(session, user_id)
    return True


async def _save_remote_vector(
    database: Database,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    content_hash: bytes,
    model: str,
    vector: list[float],
) -> bool:
    async with database.unit_of_work(user_id=user_id) as session:
        current = await repo.entry_for_analysis(session, entry_id, lock=True)
        if current is None or current.content_hash != content_hash:
            return False
        await repo.save_embedding(
            session,
            {
                "user_id": user_id,
                "entry_id": entry_id,
                "model": model,
                "dimensions": len(vector),
                "embedding": vector,
                "content_hash": content_hash,
                "created_at": datetime.now(UTC),
            },
            force=True,
        )
    return True


async def _save_local(
    database: Database,
    settings: AnalysisSettings,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    content_hash: bytes,
    config: str,
    analysis: Analysis,
    *,
    auto_rules: bool,
    force: bool,
) -> bool:
    """Store the local results, embedding and topics for the current text, in one
    transaction, and mark the text analysed; False if the entry changed meanwhile."""
    async with database.unit_of_work(user_id=user_id) as session:
        current = await repo.entry_for_analysis(session, entry_id, lock=True)
        if current is None or current.content_hash != content_hash:
            return False
        for row in _rows(settings, user_id, entry_id, content_hash, analysis.results):
            await repo.save_result(session, row, force=force)
        await repo.save_embedding(
            session,
            {
                "user_id": user_id,
                "entry_id": entry_id,
                "model": analysis.model,
                "dimensions": len(analysis.embedding),
                "embedding": analysis.embedding.tolist(),
                "content_hash": content_hash,
                "created_at": datetime.now(UTC),
            },
            force=force,
        )
        keywords = next(r for r in analysis.results if r.task_type == "keywords").data
        await repo.link_topics(
            session,
            user_id,
            entry_id,
            config,
            [(k["keyword"], float(k["relevance"])) for k in keywords["keywords"]],
        )
        if auto_rules:  # only on an entry's first analysis: a tag the user removed stays off
            await apply_auto_rules(session, user_id, entry_id, config, analysis.model)
        await repo.set_status(session, entry_id, analyzed_hash=content_hash)
        # Sentiment, emotions and topics feed the statistics: recompute the entry's day.
        await insights_statistics.request_refresh(session, user_id)
    return True

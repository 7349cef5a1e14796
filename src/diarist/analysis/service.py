"""The analysis pipeline's rules: request analysis with the write that needs it, run it once per
text (by content hash), record failures, and re-queue what got stuck."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import procrastinate
import structlog
from procrastinate.jobs import Status
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import preferences as preferences_api
from diarist.analysis import jobs
from diarist.analysis import repository as repo
from diarist.analysis.results import Analysis, TaskResult
from diarist.config import AnalysisSettings
from diarist.db.engine import Database
from diarist.db.jobs import count_jobs_by_status, defer_many
from diarist.errors import NotFound, Unprocessable
from diarist.insights import statistics as insights_statistics
from diarist.models import Topic
from diarist.models.analysis import LOCAL_EMBEDDING_MODEL, remote_model_name

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
    await _defer(session, [(entry_id, user_id)], force)


async def _defer(
    session: AsyncSession, targets: list[tuple[uuid.UUID, uuid.UUID]], force: bool
) -> None:
    # One lock per entry: its jobs run one after another, so a burst of edits is analysed
    # once (the later jobs find the text analysed already).
    await defer_many(
        session,
        jobs.ANALYZE_ENTRY,
        [{"entry_id": str(e), "user_id": str(u), "force": force} for e, u in targets],
        lock_key="entry_id",
    )


@dataclass(frozen=True)
class Outcome:
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
        text, content_hash = entry.content, entry.content_hash
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
        async with database.unit_of_work(user_id=user_id) as session:
            await repo.set_status(
                session,
                entry_id,
                only_for_hash=content_hash,
                processing_status="failed" if final else "pending",
                analysis_error=f"{type(exc).__name__}: {str(exc)[:300]}",
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
            await _apply_auto_rules(session, user_id, entry_id, config, analysis.model)
        await repo.set_status(session, entry_id, analyzed_hash=content_hash)
        # Sentiment, emotions and topics feed the statistics: recompute the entry's day.
        await insights_statistics.request_refresh(session, user_id)
    return True


AUTO_APPLY_CONFIDENCE = 0.6
SUGGESTION_CONFIDENCE = 0.3


async def _apply_auto_rules(
    session: AsyncSession, user_id: uuid.UUID, entry_id: uuid.UUID, config: str, model: str
) -> None:
    """Tags the user marked `auto_apply` are put on when suggested with enough confidence."""
    for suggestion in await repo.tag_suggestions(session, user_id, entry_id, model, config):
        if suggestion["auto_apply"] and suggestion["confidence"] >= AUTO_APPLY_CONFIDENCE:
            await repo.assign_tag(
                session,
                user_id,
                entry_id,
                suggestion["tag_id"],
                "auto_rule",
                {"confidence": round(float(suggestion["confidence"]), 3),
                 "reasons": suggestion["reasons"]},
            )  # fmt: skip


async def suggest_tags(
    session: AsyncSession,
    settings: AnalysisSettings,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    config: str,
) -> list[dict[str, Any]]:
    """Suggestions for the entry, above the confidence threshold; never applied here."""
    model = (await preferences_api.preferences_of(session, user_id)).embedding_model(settings)
    found = await repo.tag_suggestions(session, user_id, entry_id, model, config)
    return [s for s in found if s["confidence"] >= SUGGESTION_CONFIDENCE]


class SuggestionNotFound(NotFound):
    code = "suggestion_not_found"
    title = "No such suggestion"


class TopicNotFound(NotFound):
    code = "topic_not_found"
    title = "Topic not found"


class InvalidTopic(Unprocessable):
    code = "invalid_topic"
    title = "Invalid topic"


async def accept_suggestion(
    session: AsyncSession,
    settings: AnalysisSettings,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    tag_id: uuid.UUID,
    config: str,
) -> None:
    """Put a suggested tag on the entry, keeping why it was suggested."""
    suggestion = next(
        (
            s
            for s in await suggest_tags(session, settings, user_id, entry_id, config)
            if s["tag_id"] == tag_id
        ),
        None,
    )
    if suggestion is None:
        raise SuggestionNotFound("This tag is not (or no longer) suggested for the entry.")
    await repo.assign_tag(
        session,
        user_id,
        entry_id,
        tag_id,
        "ai_suggested",
        {"confidence": round(float(suggestion["confidence"]), 3), "reasons": suggestion["reasons"]},
    )


async def list_topics(
    session: AsyncSession, user_id: uuid.UUID, *, min_entries: int, include_hidden: bool, limit: int
) -> list[dict[str, Any]]:
    return await repo.list_topics(
        session, user_id, min_entries=min_entries, include_hidden=include_hidden, limit=limit
    )


async def _topic(session: AsyncSession, user_id: uuid.UUID, topic_id: uuid.UUID) -> Topic:
    topic = await repo.get_topic(session, user_id, topic_id)
    if topic is None:
        raise TopicNotFound("No such topic.")
    return topic


async def update_topic(
    session: AsyncSession,
    user_id: uuid.UUID,
    topic_id: uuid.UUID,
    *,
    name: str | None,
    hidden: bool | None,
) -> Topic:
    """Rename (its keywords still find it) or hide a topic."""
    topic = await _topic(session, user_id, topic_id)
    if name is not None:
        topic.name = name
    if hidden is not None:
        topic.hidden = hidden
    await session.flush()
    return topic


async def merge_topic(
    session: AsyncSession, user_id: uuid.UUID, source_id: uuid.UUID, target_id: uuid.UUID
) -> Topic:
    """Fold one topic into another; the source's keywords join the target from now on."""
    if source_id == target_id:
        raise InvalidTopic("A topic cannot be merged into itself.", field="into")
    source = await _topic(session, user_id, source_id)
    target = await _topic(session, user_id, target_id)
    await repo.merge_topics(session, source, target)
    return target


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
        await _defer(session, stuck, force=False)
    return len(stuck)


async def purge_expired_results(session: AsyncSession) -> int:
    return await repo.purge_expired_results(session, datetime.now(UTC))


async def backfill_targets(
    session: AsyncSession, everything: bool
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(entry, user) of live entries never analysed, or all of them (system role)."""
    return await repo.backfill_targets(session, everything)


async def queue_many(session: AsyncSession, targets: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """Queue analysis (forced) for many entries in one transaction (system role)."""
    await repo.mark_requested(session, [entry_id for entry_id, _ in targets], force=True)
    await _defer(session, targets, force=True)


async def queue_counts(session: AsyncSession) -> dict[str, int]:
    return await count_jobs_by_status(session, jobs.ANALYZE_ENTRY)


async def status_counts(session: AsyncSession) -> dict[str, int]:
    return await repo.status_counts(session)

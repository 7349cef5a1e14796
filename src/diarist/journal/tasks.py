"""Background work of the journal."""

from __future__ import annotations

import uuid

import procrastinate
import structlog

from diarist.attachments.store import open_store
from diarist.db.jobs import worker_resources
from diarist.journal import jobs, voice
from diarist.journal import service as entries_service

blueprint = procrastinate.Blueprint()
_log = structlog.get_logger("diarist.journal.tasks")


@blueprint.periodic(cron="17 * * * *")
@blueprint.task(
    name=jobs.PURGE_TRASH.name, queue=jobs.PURGE_TRASH.queue, queueing_lock="purge_trash"
)
async def purge_trash(timestamp: int) -> int:
    """Hourly: hard-delete entries that sat in the trash longer than the retention."""
    resources = worker_resources()
    async with resources.system_database.unit_of_work() as session:
        purged = await entries_service.purge_expired_trash(session, resources.settings.journal)
    _log.info("trash_purged", entries=purged, scheduled_for=timestamp)
    return purged


@blueprint.periodic(cron="* * * * *")
@blueprint.task(
    name=jobs.FOLD_VOCABULARY.name,
    queue=jobs.FOLD_VOCABULARY.queue,
    queueing_lock="fold_vocabulary",
)
async def fold_vocabulary(timestamp: int) -> int:
    """Every minute: count the words that writes of entries recorded into each user's
    vocabulary (search counts its user's own before it reads them)."""
    folded = await entries_service.fold_all_vocabularies(worker_resources().system_database)
    if folded:
        _log.info("vocabulary_folded", changes=folded)
    return folded


@blueprint.task(name=jobs.REINDEX_LANGUAGE.name, queue=jobs.REINDEX_LANGUAGE.queue)
async def reindex_language(user_id: str) -> int:
    """After a language change: re-index the user's entries with the new configuration."""
    resources = worker_resources()
    owner = uuid.UUID(user_id)
    async with resources.database.unit_of_work(user_id=owner) as session:
        changed = await entries_service.reindex_search(session, owner)
    _log.info("search_reindexed", user_id=user_id, entries=changed)
    return changed


@blueprint.task(name=jobs.TRANSCRIBE.name, queue=jobs.TRANSCRIBE.queue)
async def transcribe(entry_id: str, attachment_id: str, user_id: str) -> str:
    """A recording's transcript into its entry (offline or by the provider: journal.voice)."""
    resources = worker_resources()
    settings = resources.settings
    store = open_store(settings.attachments, settings.data_dir)
    status = await voice.transcribe_recording(
        resources.database, store, settings, uuid.UUID(user_id), uuid.UUID(entry_id),
        uuid.UUID(attachment_id),
    )  # fmt: skip
    _log.info("transcription_finished", entry_id=entry_id, status=status)
    return status

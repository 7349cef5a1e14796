"""Background work of imports: one job per import started over the API."""

from __future__ import annotations

import uuid

import procrastinate
import structlog

from diarist.attachments.service import Attaching
from diarist.db.jobs import worker_resources
from diarist.imports import jobs, service

blueprint = procrastinate.Blueprint()
_log = structlog.get_logger("diarist.imports.tasks")


@blueprint.task(name=jobs.RUN_IMPORT.name, queue=jobs.RUN_IMPORT.queue)
async def run_import(import_id: str, user_id: str) -> str:
    """Import an uploaded file into its owner's journal; the import's final status."""
    resources = worker_resources()
    settings = resources.settings
    status = await service.run_import(
        resources.database, uuid.UUID(user_id), uuid.UUID(import_id),
        settings.data_dir, settings.journal,
        Attaching.of(settings.attachments, settings.data_dir),
    )  # fmt: skip
    _log.info("import_finished", import_id=import_id, status=status)
    return status


@blueprint.periodic(cron="27 * * * *")
@blueprint.task(
    name=jobs.SWEEP_UPLOADS.name, queue=jobs.SWEEP_UPLOADS.queue, queueing_lock="imports_sweep"
)
async def sweep_uploads(timestamp: int) -> int:
    """Hourly: remove uploads no import waits for (an account deleted before its import ran)."""
    resources = worker_resources()
    async with resources.system_database.unit_of_work() as session:
        removed = await service.sweep_uploads(session, resources.settings.data_dir)
    if removed:
        _log.info("uploads_swept", removed=removed)
    return removed

"""Internal maintenance tasks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import procrastinate
import structlog

from diarist.db.engine import resolve_urls
from diarist.db.jobs import worker_resources
from diarist.ops import jobs, service

blueprint = procrastinate.Blueprint()
_log = structlog.get_logger("diarist.ops.tasks")


@blueprint.task(name=jobs.PING.name, queue=jobs.PING.queue)
async def ping(token: str) -> str:
    """Proves the enqueue -> worker loop; returns its token."""
    _log.info("worker_ping", token=token)
    return token


@blueprint.periodic(cron="5 * * * *")
@blueprint.task(name=jobs.BACKUP.name, queue=jobs.BACKUP.queue, queueing_lock="ops_backup")
async def scheduled_backup(timestamp: int) -> str:
    """Hourly: when scheduled backups are on (DIARIST_BACKUPS__EVERY_HOURS) and the newest is
    that old, make one and prune; the same for base backups of point-in-time recovery
    (DIARIST_BACKUPS__BASE_EVERY_HOURS); what each did."""
    settings = worker_resources().settings
    now = datetime.now(UTC)
    dump = await asyncio.to_thread(service.scheduled_backup, settings, resolve_urls(settings), now)
    base = await asyncio.to_thread(service.scheduled_base_backup, settings, now)
    return f"dump: {dump}; base: {base}"

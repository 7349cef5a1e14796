"""The daily retention job (audit.retention)."""

from __future__ import annotations

from datetime import UTC, datetime

import procrastinate
import structlog

from diarist.audit import jobs
from diarist.audit.retention import run_retention
from diarist.db.jobs import worker_resources

blueprint = procrastinate.Blueprint()
_log = structlog.get_logger("diarist.audit.tasks")


@blueprint.periodic(cron="23 2 * * *")
@blueprint.task(name=jobs.RETENTION.name, queue=jobs.RETENTION.queue, queueing_lock="retention")
async def retention(timestamp: int) -> dict[str, int]:
    """Daily: the audit trail's partitions kept, and what grows without bound purged by age."""
    resources = worker_resources()
    done = await run_retention(
        resources.system_database, resources.settings.retention, datetime.now(UTC)
    )
    _log.info("retention_done", scheduled_for=timestamp, **done)
    return done

"""Background work of attachments: the collector of bytes nothing names any more."""

from __future__ import annotations

import procrastinate
import structlog

from diarist.attachments import jobs, service
from diarist.attachments.store import open_store
from diarist.db.jobs import worker_resources

blueprint = procrastinate.Blueprint()
_log = structlog.get_logger("diarist.attachments.tasks")


@blueprint.periodic(cron="41 * * * *")
@blueprint.task(
    name=jobs.COLLECT.name, queue=jobs.COLLECT.queue, queueing_lock="attachments_collect"
)
async def collect_unreferenced(timestamp: int) -> int:
    """Hourly: remove the stored files no attachment names (entries purged from the trash,
    attachments removed, accounts deleted); how many."""
    resources = worker_resources()
    settings = resources.settings
    store = open_store(settings.attachments, settings.data_dir)
    staging = settings.data_dir / "attachments-staging"
    blobs, strays = await service.collect_unreferenced(resources.system_database, store, staging)
    return blobs + strays

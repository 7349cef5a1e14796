"""Internal maintenance tasks."""

from __future__ import annotations

import procrastinate
import structlog

from diarist.ops import jobs

blueprint = procrastinate.Blueprint()
_log = structlog.get_logger("diarist.ops.tasks")


@blueprint.task(name=jobs.PING.name, queue=jobs.PING.queue)
async def ping(token: str) -> str:
    """Proves the enqueue -> worker loop; returns its token."""
    _log.info("worker_ping", token=token)
    return token

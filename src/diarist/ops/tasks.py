"""Internal maintenance tasks."""

from __future__ import annotations

import procrastinate
import structlog

blueprint = procrastinate.Blueprint()
_log = structlog.get_logger("diarist.ops.tasks")


@blueprint.task(name="ping", queue="ops")
async def ping(token: str) -> str:
    """Proves the enqueue -> worker loop; returns its token."""
    _log.info("worker_ping", token=token)
    return token

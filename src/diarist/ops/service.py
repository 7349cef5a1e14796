"""Operational checks shared by the API, the CLI and the worker."""

from __future__ import annotations

import structlog
from sqlalchemy.exc import SQLAlchemyError

from diarist.db.engine import Database
from diarist.ops import repository as repo
from diarist.ops.schemas import Readiness

_log = structlog.get_logger("diarist.ops")


async def check_readiness(database: Database, heads: set[str]) -> Readiness:
    """Whether the database answers and holds every packaged migration."""
    try:
        async with database.engine.connect() as conn:
            current = await repo.applied_revisions(conn)
    except (SQLAlchemyError, OSError) as exc:
        _log.warning("readiness_database_unreachable", error=type(exc).__name__)
        return Readiness(status="unavailable", database=False, migrations="unknown")
    if current != heads:
        return Readiness(status="unavailable", database=True, migrations="pending")
    return Readiness(status="ready", database=True, migrations="current")

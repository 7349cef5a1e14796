"""Operational checks shared by the API, the CLI and the worker."""

from __future__ import annotations

import structlog
from sqlalchemy.exc import SQLAlchemyError

from diarist.db.engine import Database
from diarist.ops import repository as repo
from diarist.ops.children import ChildState
from diarist.ops.schemas import Readiness

_log = structlog.get_logger("diarist.ops")


async def check_readiness(
    database: Database, heads: set[str], children: list[ChildState]
) -> Readiness:
    """Whether the database answers and holds every packaged migration, and whether every
    supervised process runs (`children`, as `diarist serve` last reported them)."""
    try:
        async with database.engine.connect() as conn:
            current = await repo.applied_revisions(conn)
    except (SQLAlchemyError, OSError) as exc:
        _log.warning("readiness_database_unreachable", error=type(exc).__name__)
        return Readiness(
            status="unavailable", database=False, migrations="unknown", children=children
        )
    if current != heads:
        _log.warning("readiness_migrations_pending", applied=sorted(current), heads=sorted(heads))
        return Readiness(
            status="unavailable", database=True, migrations="pending", children=children
        )
    degraded = any(child.state != "running" for child in children)
    return Readiness(
        status="degraded" if degraded else "ready",
        database=True,
        migrations="current",
        children=children,
    )

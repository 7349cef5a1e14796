"""Every query of ops: what the readiness check reads of the schema's state."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def applied_revisions(conn: AsyncConnection) -> set[str]:
    """The migration revisions the database holds (none before the first migration)."""
    exists = await conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
    if not exists:
        return set()
    result = await conn.execute(text("SELECT version_num FROM alembic_version"))
    return set(result.scalars())

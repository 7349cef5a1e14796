"""Every query of imports: the rows of imports started over the API, under the owner's RLS."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.db.jobs import no_live_job_sql
from diarist.imports import jobs
from diarist.models import Import


async def insert_import(session: AsyncSession, values: dict[str, Any]) -> Import:
    row = Import(**values)
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def get_import(
    session: AsyncSession, user_id: uuid.UUID, import_id: uuid.UUID
) -> Import | None:
    query = select(Import).where(Import.user_id == user_id, Import.id == import_id)
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def list_imports(session: AsyncSession, user_id: uuid.UUID, limit: int) -> list[Import]:
    """The user's imports, newest first."""
    query = (
        select(Import)
        .where(Import.user_id == user_id)
        .order_by(Import.created_at.desc(), Import.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def set_import(session: AsyncSession, import_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(update(Import).where(Import.id == import_id).values(**values))


async def count_waiting(session: AsyncSession, user_id: uuid.UUID) -> int:
    """The user's imports queued or running, counted under a per-user lock held until the
    transaction ends (two requests at once cannot both pass a limit)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('imports:' || :user_id, 0))"),
        {"user_id": str(user_id)},
    )
    query = select(func.count()).where(
        Import.user_id == user_id, Import.status.in_(("queued", "running"))
    )
    return int(await session.scalar(query) or 0)


async def waiting_import_ids(session: AsyncSession, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these imports still wait for (or run) their job (system role: anyone's)."""
    query = select(Import.id).where(Import.id.in_(ids), Import.status.in_(("queued", "running")))
    return set((await session.scalars(query)).all())


_NO_LIVE_JOB = no_live_job_sql(jobs.RUN_IMPORT, "import_id", "imports.id::text")
_LOST = text(
    f"""
    UPDATE imports SET status = 'failed', error_code = 'import_lost', error = :error,
           finished_at = now()
    WHERE status IN ('queued', 'running') AND created_at < :before AND {_NO_LIVE_JOB}
    """  # noqa: S608 - composed of module constants only
)


async def fail_lost_imports(session: AsyncSession, before: datetime, error: str) -> int:
    """Mark failed the imports (anyone's: system role) still waiting or running, started before
    `before`, that no job waits for or runs any more; how many."""
    result = await session.execute(_LOST, {"before": before, "error": error})
    return int(result.rowcount)  # type: ignore[attr-defined]


def now() -> Any:
    return func.now()

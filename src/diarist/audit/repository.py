"""The audit trail's queries: a user's own rows (RLS), and the partitions' upkeep through the
SECURITY DEFINER functions of db/sql/audit/partitions.sql (the system role)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import literal_column, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.models import AuditEntry


async def list_audit(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    table: str | None,
    row: str | None,
    before: tuple[datetime, int] | None,
    limit: int,
) -> list[tuple[AuditEntry, bool]]:
    """Newest first (keyset on (at, id)), each with whether a request of the reader's own
    role wrote it (the application role: a request) or another (the system role: the
    worker, an import, an administrator)."""
    mine = (AuditEntry.actor_role == literal_column("session_user")).label("mine")
    query = select(AuditEntry, mine).where(AuditEntry.user_id == user_id)
    if table is not None:
        query = query.where(AuditEntry.table_name == table)
    if row is not None:
        query = query.where(AuditEntry.row_key == row)
    if before is not None:
        query = query.where(tuple_(AuditEntry.at, AuditEntry.id) < before)
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    return [(entry, bool(own)) for entry, own in (await session.execute(query)).all()]


async def ensure_partitions(session: AsyncSession, months_ahead: int) -> int:
    found = await session.scalar(
        text("SELECT audit_partitions_ensure(:ahead)"), {"ahead": months_ahead}
    )
    return int(found or 0)


async def drop_partitions(session: AsyncSession, before: date) -> int:
    found = await session.scalar(text("SELECT audit_partitions_drop(:before)"), {"before": before})
    return int(found or 0)

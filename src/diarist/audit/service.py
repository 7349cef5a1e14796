"""Reading my audit trail, and keeping its partitions (made ahead, dropped past retention)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from diarist.audit import repository as repo
from diarist.audit.schemas import AuditEntryOut, AuditQuery
from diarist.config import RetentionSettings
from diarist.kit.pagination import InvalidCursor, decode_cursor, encode_cursor


async def my_audit(
    session: AsyncSession, user_id: uuid.UUID, query: AuditQuery
) -> tuple[list[AuditEntryOut], str | None]:
    """My rows' trail, newest first, a page at a time."""
    rows = await repo.list_audit(
        session, user_id, table=query.table, row=query.row, before=_before(query.cursor),
        limit=query.limit + 1,
    )  # fmt: skip
    items = [
        AuditEntryOut(
            at=row.at,
            actor="me" if mine else "system",
            table_name=row.table_name,
            operation=row.operation,
            row_key=row.row_key,
            changed=row.changed,
            old_values=row.old_values,
            new_values=row.new_values,
            request_id=row.request_id,
        )
        for row, mine in rows[: query.limit]
    ]
    last = rows[query.limit - 1][0] if len(rows) > query.limit else None
    return items, encode_cursor(last.at.isoformat(), last.id) if last else None


def _before(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    at, row_id = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(at), int(row_id)
    except ValueError:
        raise InvalidCursor("The cursor is not one this server issued.") from None


@dataclass(frozen=True)
class PartitionsKept:
    made: int
    dropped: int


def retention_start(today: date, keep_months: int) -> date | None:
    """The first day whose month is kept (None: kept for ever)."""
    if keep_months == 0:
        return None
    index = today.year * 12 + today.month - 1 - keep_months
    return date(index // 12, index % 12 + 1, 1)


async def keep_partitions(
    session: AsyncSession, settings: RetentionSettings, today: date
) -> PartitionsKept:
    """Months ahead made, months past the retention dropped (the system role's session)."""
    made = await repo.ensure_partitions(session, settings.audit_months_ahead)
    start = retention_start(today, settings.audit_keep_months)
    dropped = await repo.drop_partitions(session, start) if start else 0
    return PartitionsKept(made, dropped)

"""Queries of imported entries: which of a batch exist already, many new ones in one statement,
and their tag links in another."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.models import Entry


@dataclass(frozen=True)
class ImportedEntry:
    """An entry an earlier import wrote: its id, what was imported, whether it is in the trash."""

    id: uuid.UUID
    import_hash: bytes
    trashed: bool


async def imported_entries(
    session: AsyncSession, user_id: uuid.UUID, source: str, import_ids: Sequence[str]
) -> dict[str, ImportedEntry]:
    """The user's entries imported from `source` under these ids (live or trashed)."""
    rows = await session.execute(
        select(Entry.import_id, Entry.id, Entry.import_hash, Entry.deleted_at.is_not(None)).where(
            Entry.user_id == user_id,
            Entry.import_source == source,
            Entry.import_id.in_(import_ids),
        )
    )
    # import_id and import_hash are set together on these rows (ck_entries_import_origin_whole).
    return {str(row[0]): ImportedEntry(row[1], row[2] or b"", row[3]) for row in rows}


async def insert_imported(
    session: AsyncSession, rows: list[dict[str, Any]]
) -> dict[str, uuid.UUID]:
    """Insert new entries in one statement; their ids by import id. A row whose import id was
    written meanwhile (a concurrent import of the same file) is skipped and left out."""
    if not rows:
        return {}
    statement = (
        pg_insert(Entry)
        .values(rows)
        .on_conflict_do_nothing(
            index_elements=[Entry.user_id, Entry.import_source, Entry.import_id],
            index_where=Entry.import_id.is_not(None),
        )
        .returning(Entry.import_id, Entry.id)
    )
    return {str(row[0]): row[1] for row in await session.execute(statement)}


async def set_import_hash(session: AsyncSession, entry_id: uuid.UUID, import_hash: bytes) -> None:
    await session.execute(update(Entry).where(Entry.id == entry_id).values(import_hash=import_hash))


_LINK_MANY = text(
    """
INSERT INTO entry_tags (user_id, entry_id, tag_id)
SELECT t.user_id, link.entry_id, t.id
FROM unnest(CAST(:entry_ids AS uuid[]), CAST(:names AS text[])) AS link(entry_id, name)
JOIN tags t ON t.user_id = :user_id AND t.name_key = lower(link.name)
ORDER BY link.entry_id, t.id
ON CONFLICT DO NOTHING
"""
)


async def link_tags(
    session: AsyncSession, user_id: uuid.UUID, links: Sequence[tuple[uuid.UUID, str]]
) -> None:
    """Link each (new entry, tag name) in one statement; the tags exist (`ensure_tags`)."""
    if links:
        await session.execute(
            _LINK_MANY,
            {
                "user_id": user_id,
                "entry_ids": [entry_id for entry_id, _ in links],
                "names": [name for _, name in links],
            },
        )

"""Queries of imported entries: which of a batch exist already, many new ones in one statement,
and their tag links in another."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pydantic_core
from sqlalchemy import Text, Uuid, any_, bindparam, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.models import Entry


@dataclass(frozen=True)
class ImportedEntry:
    """An entry an earlier import wrote: its id, what was imported, whether it is in the trash."""

    id: uuid.UUID
    import_hash: bytes
    trashed: bool
    # The very entry the import names (a diarist export imported into the account it came
    # from): never changed by the import.
    original: bool = False


async def imported_entries(
    session: AsyncSession, user_id: uuid.UUID, source: str, import_ids: Sequence[str]
) -> dict[str, ImportedEntry]:
    """The user's entries imported from `source` under these ids (live or trashed); from
    diarist's own export, also the entries whose id is one of these."""
    rows = await session.execute(
        select(Entry.import_id, Entry.id, Entry.import_hash, Entry.deleted_at.is_not(None)).where(
            Entry.user_id == user_id,
            Entry.import_source == source,
            Entry.import_id == any_(bindparam("import_ids", list(import_ids), ARRAY(Text))),
        )
    )
    # import_id and import_hash are set together on these rows (ck_entries_import_origin_whole).
    found = {str(row[0]): ImportedEntry(row[1], row[2] or b"", row[3]) for row in rows}
    if source == "diarist":
        ids = [uid for uid in map(_uuid, import_ids) if uid is not None]
        originals = await session.scalars(
            select(Entry.id).where(
                Entry.user_id == user_id, Entry.id == any_(bindparam("ids", ids, ARRAY(Uuid)))
            )
        )
        for entry_id in originals:
            found[str(entry_id)] = ImportedEntry(entry_id, b"", False, original=True)
    return found


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# New entries from one JSON document (one parameter, one statement, parsed by PostgreSQL):
# no per-row bind parameters, and the statement text is the same for every batch.
_INSERT_MANY = text(
    """
INSERT INTO entries (
    user_id, title, raw_data, format, content, content_hash, word_count, entry_type, metadata,
    mood_rating, entry_date, timezone, visibility, published_at, starred, pinned,
    processing_status, search_config, import_source, import_id, import_hash)
SELECT diarist_current_user_id(), r.title, r.raw_data, r.format, r.content,
       decode(r.content_hash, 'hex'), r.word_count, r.entry_type, r.metadata, r.mood_rating,
       coalesce(r.entry_date, now()), r.timezone, r.visibility, r.published_at, r.starred,
       r.pinned, r.processing_status, diarist_search_config(:language), :source, r.import_id,
       decode(r.import_hash, 'hex')
FROM json_to_recordset(CAST(:rows AS json)) AS r(
    title text, raw_data jsonb, format text, content text, content_hash text, word_count integer,
    entry_type text, metadata jsonb, mood_rating smallint, entry_date timestamptz,
    timezone text, visibility text, published_at timestamptz, starred boolean, pinned boolean,
    processing_status text, import_id text, import_hash text)
ON CONFLICT (user_id, import_source, import_id) WHERE import_id IS NOT NULL DO NOTHING
RETURNING import_id, id
"""
)


async def insert_imported(
    session: AsyncSession, source: str, language: str, rows: list[dict[str, Any]]
) -> dict[str, uuid.UUID]:
    """Insert new entries of the tenant in one statement; their ids by import id. Each row has
    the columns of a new entry (`meta` as `metadata`, bytes as hex). A row whose import id
    was written meanwhile (a concurrent import of the same file) is skipped and left out."""
    if not rows:
        return {}
    body = pydantic_core.to_json(rows, bytes_mode="hex").decode()
    result = await session.execute(
        _INSERT_MANY, {"rows": body, "source": source, "language": language}
    )
    return {str(row[0]): row[1] for row in result}


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

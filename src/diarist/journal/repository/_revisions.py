"""Queries of revisions: the earlier titles and raw_data of an entry, one row per version."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.models import Entry, EntryRevision


async def insert_revision(session: AsyncSession, entry: Entry) -> None:
    """Keep the entry's current title and raw_data under its current version."""
    await session.execute(
        pg_insert(EntryRevision)
        .values(
            user_id=entry.user_id,
            entry_id=entry.id,
            version=entry.version,
            title=entry.title,
            raw_data=entry.raw_data,
        )
        .on_conflict_do_nothing(index_elements=[EntryRevision.entry_id, EntryRevision.version])
    )


async def list_revisions(session: AsyncSession, entry_id: uuid.UUID) -> list[EntryRevision]:
    """The entry's revisions, newest version first."""
    query = (
        select(EntryRevision)
        .where(EntryRevision.entry_id == entry_id)
        .order_by(EntryRevision.version.desc())
    )
    return list((await session.scalars(query)).all())


async def get_revision(
    session: AsyncSession, entry_id: uuid.UUID, version: int
) -> EntryRevision | None:
    """The entry's revision of `version`, if any."""
    query = select(EntryRevision).where(
        EntryRevision.entry_id == entry_id, EntryRevision.version == version
    )
    return (await session.scalars(query)).first()

"""The query of journal exports: every live entry of the tenant with its tag names, oldest
first, streamed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.journal.repository._entries import tag_names_of
from diarist.models import Entry


async def stream_entries(
    session: AsyncSession, user_id: uuid.UUID, batch: int = 500
) -> AsyncIterator[Sequence[Any]]:
    """The user's live entries (not the trash), oldest first, in batches of rows."""
    query = (
        select(Entry, tag_names_of(Entry.id).label("tags"))
        .where(Entry.user_id == user_id, Entry.deleted_at.is_(None))
        .order_by(Entry.entry_date, Entry.id)
        .execution_options(yield_per=batch)
    )
    result = await session.stream(query)
    async for rows in result.partitions(batch):
        yield rows

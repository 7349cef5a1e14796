"""Queries of one entry's analysis, under the owner's RLS context: the entry and its
bookkeeping, results and embeddings."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.models import Entry, EntryEmbedding, EntryTopic, ProcessedContent


async def entry_for_analysis(
    session: AsyncSession, entry_id: uuid.UUID, *, lock: bool = False
) -> Entry | None:
    """The live entry (locked with `lock`, until the transaction ends), freshly loaded."""
    query = select(Entry).where(Entry.id == entry_id, Entry.deleted_at.is_(None))
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def set_status(
    session: AsyncSession, entry_id: uuid.UUID, *, only_for_hash: bytes | None = None, **values: Any
) -> None:
    """Analysis bookkeeping only: never the version, ETag or updated_at of the user's entry.
    With `only_for_hash`, only while the entry's text is still that one."""
    statement = update(Entry).where(Entry.id == entry_id)
    if only_for_hash is not None:
        statement = statement.where(Entry.content_hash == only_for_hash)
    await session.execute(statement.values(**values))


async def has_result(
    session: AsyncSession, entry_id: uuid.UUID, task_type: str, content_hash: bytes
) -> bool:
    """Whether the entry has a `task_type` result of this text."""
    found = await session.scalar(
        select(ProcessedContent.id).where(
            ProcessedContent.entry_id == entry_id,
            ProcessedContent.task_type == task_type,
            ProcessedContent.content_hash == content_hash,
        )
    )
    return found is not None


async def has_embedding(
    session: AsyncSession, entry_id: uuid.UUID, model: str, content_hash: bytes
) -> bool:
    """Whether the entry has a vector of `model` for this text."""
    found = await session.scalar(
        select(EntryEmbedding.entry_id).where(
            EntryEmbedding.entry_id == entry_id,
            EntryEmbedding.model == model,
            EntryEmbedding.content_hash == content_hash,
        )
    )
    return found is not None


async def forget_analysis(session: AsyncSession, entry_id: uuid.UUID) -> None:
    """Everything derived from the entry's text: results, embeddings, topic links."""
    for model in (ProcessedContent, EntryEmbedding, EntryTopic):
        await session.execute(delete(model).where(model.entry_id == entry_id))
    await session.execute(update(Entry).where(Entry.id == entry_id).values(analyzed_hash=None))


async def save_result(
    session: AsyncSession, values: dict[str, Any], *, force: bool = False
) -> None:
    """Upsert one task's result; the same content hash again changes nothing (idempotent)
    unless `force` (a re-analysis asked for by the user or an upgrade)."""
    statement = pg_insert(ProcessedContent).values(**values)
    excluded = statement.excluded
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ProcessedContent.entry_id, ProcessedContent.task_type],
            set_={
                "content_hash": excluded.content_hash,
                "processed_data": excluded.processed_data,
                "confidence": excluded.confidence,
                "provider_info": excluded.provider_info,
                "created_at": excluded.created_at,
                "expires_at": excluded.expires_at,
            },
            where=None if force else ProcessedContent.content_hash != excluded.content_hash,
        )
    )


async def save_embedding(
    session: AsyncSession, values: dict[str, Any], *, force: bool = False
) -> None:
    """Upsert the entry's vector of one model; the same content hash again changes nothing
    unless `force`."""
    statement = pg_insert(EntryEmbedding).values(**values)
    excluded = statement.excluded
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[EntryEmbedding.entry_id, EntryEmbedding.model],
            set_={
                "embedding": excluded.embedding,
                "dimensions": excluded.dimensions,
                "content_hash": excluded.content_hash,
                "created_at": excluded.created_at,
            },
            where=None if force else EntryEmbedding.content_hash != excluded.content_hash,
        )
    )


async def awaiting_analysis(session: AsyncSession, entry_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Those of the tenant's entries that still wait for analysis (pending or processing),
    key-share locked until the transaction ends: an entry (or its account) deleted meanwhile
    is left out, and one being deleted waits for the caller's jobs to be written first."""
    rows = await session.scalars(
        select(Entry.id)
        .where(
            Entry.id.in_(entry_ids),
            Entry.processing_status.in_(("pending", "processing")),
        )
        .order_by(Entry.id)
        .with_for_update(key_share=True)
    )
    return list(rows)


async def mark_requested(session: AsyncSession, entry_ids: list[uuid.UUID], force: bool) -> None:
    """Many entries back to `pending` in one statement (bookkeeping only)."""
    values: dict[str, Any] = {
        "processing_status": "pending",
        "analysis_requested_at": func.now(),
        "analysis_attempts": 0,
        "analysis_error": None,
    }
    if force:
        values["analyzed_hash"] = None
    await session.execute(update(Entry).where(Entry.id.in_(entry_ids)).values(**values))

"""Queries of entries: write, read one (with everything its full representation shows), list
a page of the timeline, trash and purge, and the entries' tag links."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Row,
    ScalarSelect,
    Select,
    Text,
    Uuid,
    and_,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.journal.languages import search_config_of
from diarist.models import Entry, EntryTag, EntryTopic, ProcessedContent, Tag, Topic


async def insert_entry(session: AsyncSession, values: dict[str, Any]) -> Entry | None:
    """Insert; None when an entry with the same idempotency key exists already."""
    statement = (
        pg_insert(Entry)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=[Entry.user_id, Entry.idempotency_key],
            index_where=Entry.idempotency_key.is_not(None),
        )
        .returning(Entry)
    )
    return (await session.scalars(statement)).first()


async def entry_by_idempotency_key(
    session: AsyncSession, user_id: uuid.UUID, key: str
) -> Entry | None:
    """The user's entry written under this idempotency key, if any."""
    query = select(Entry).where(Entry.user_id == user_id, Entry.idempotency_key == key)
    return (await session.scalars(query)).first()


async def get_entry(
    session: AsyncSession,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    *,
    deleted: bool | None = False,
    for_update: bool = False,
) -> Entry | None:
    """One entry; `deleted`: False live only, True trashed only, None either."""
    query = select(Entry).where(Entry.user_id == user_id, Entry.id == entry_id)
    if deleted is not None:
        query = query.where(
            Entry.deleted_at.is_not(None) if deleted else Entry.deleted_at.is_(None)
        )
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


def tag_names_of(entry_id: Any) -> ScalarSelect[Any]:
    """The entry's tag names, sorted case-insensitively, as one array column."""
    names = func.coalesce(
        func.array_agg(aggregate_order_by(Tag.name, Tag.name_key)), literal([], ARRAY(Text))
    )
    return (
        select(names)
        .select_from(EntryTag)
        .join(Tag, Tag.id == EntryTag.tag_id)
        .where(EntryTag.entry_id == entry_id)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class EntryView:
    """An entry with everything its full representation shows, read in one statement (the
    entry an ORM object, or a row of `_hot.VIEW_COLUMNS` from a hot read)."""

    entry: Entry | Any
    tags: list[str]
    results: dict[str, dict[str, Any]]
    topics: list[str]


def entry_details(
    entry_id: uuid.UUID | ColumnElement[uuid.UUID],
) -> tuple[ScalarSelect[Any], ScalarSelect[Any], ScalarSelect[Any]]:
    """What an entry view shows besides the entry: its tag names, its analysis results
    ({task_type: processed_data}) and its visible topics, as scalar subqueries."""
    results = (
        select(
            func.coalesce(
                func.jsonb_object_agg(ProcessedContent.task_type, ProcessedContent.processed_data),
                literal({}, JSONB),
            )
        )
        .where(ProcessedContent.entry_id == entry_id)
        .scalar_subquery()
    )
    topics = (
        select(
            func.coalesce(
                func.array_agg(
                    aggregate_order_by(Topic.name, EntryTopic.relevance.desc(), Topic.name)
                ),
                literal([], ARRAY(Text)),
            )
        )
        .select_from(EntryTopic)
        .join(Topic, Topic.id == EntryTopic.topic_id)
        .where(EntryTopic.entry_id == entry_id, Topic.hidden.is_(False))
        .scalar_subquery()
    )
    return tag_names_of(entry_id), results, topics


async def entry_view(
    session: AsyncSession,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    *,
    deleted: bool | None = None,
    entry: Entry | None = None,
) -> EntryView | None:
    """The entry (or, given `entry`, only what goes with it), its tags, its analysis results
    ({task_type: processed_data}) and its visible topics: one round trip."""
    details = entry_details(entry_id)
    if entry is not None:
        row = (await session.execute(select(*details))).one()
        return EntryView(entry, list(row[0]), dict(row[1]), list(row[2]))
    query = select(Entry, *details).where(Entry.user_id == user_id, Entry.id == entry_id)
    if deleted is not None:
        query = query.where(
            Entry.deleted_at.is_not(None) if deleted else Entry.deleted_at.is_(None)
        )
    found = (await session.execute(query)).first()
    if found is None:
        return None
    return EntryView(found[0], list(found[1]), dict(found[2]), list(found[3]))


async def update_entry(session: AsyncSession, entry_id: uuid.UUID, values: dict[str, Any]) -> Entry:
    """Set `values` on an entry the caller has read (by id alone) and return it as it is now."""
    statement = update(Entry).where(Entry.id == entry_id).values(**values).returning(Entry)
    result = await session.scalars(statement.execution_options(populate_existing=True))
    return result.one()


async def delete_entry(session: AsyncSession, user_id: uuid.UUID, entry_id: uuid.UUID) -> bool:
    """Hard-delete one of the user's entries; False when there was none."""
    result = await session.execute(
        delete(Entry).where(Entry.user_id == user_id, Entry.id == entry_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_search_config(session: AsyncSession, user_id: uuid.UUID, language: str) -> int:
    """Index the user's entries with the configuration of `language` where they use another;
    the number changed."""
    config = search_config_of(language)
    result = await session.execute(
        update(Entry)
        .where(Entry.user_id == user_id, Entry.search_config != config)
        .values(search_config=config)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def purge_trash(session: AsyncSession, deleted_before: datetime) -> int:
    """Hard-delete trashed entries of every user (system role), oldest first, in one batch."""
    doomed = (
        select(Entry.id)
        .where(Entry.deleted_at < deleted_before)
        .order_by(Entry.deleted_at)
        .limit(1000)
        .scalar_subquery()
    )
    result = await session.execute(delete(Entry).where(Entry.id.in_(doomed)))
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass
class EntryFilters:
    """The list and search filters, already validated and resolved (tags to id groups)."""

    date_from: datetime | None = None
    date_to: datetime | None = None
    # One group per requested tag: the tag and its descendants.
    tag_groups: list[list[uuid.UUID]] = field(default_factory=list)
    tag_mode: str = "any"
    mood_min: int | None = None
    mood_max: int | None = None
    entry_types: list[str] = field(default_factory=list)
    processing_statuses: list[str] = field(default_factory=list)
    starred: bool | None = None
    raw_data_contains: dict[str, Any] | None = None
    metadata_contains: dict[str, Any] | None = None
    deleted: bool = False


def _tagged(ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    return exists().where(EntryTag.entry_id == Entry.id, EntryTag.tag_id.in_(ids))


def apply_filters(
    query: Select[Any], user_id: uuid.UUID | ColumnElement[uuid.UUID], filters: EntryFilters
) -> Select[Any]:
    """The WHERE clause shared by the timeline and search (`user_id` may be the transaction's
    tenant, `diarist_current_user_id()`, for a statement sent before the token is checked)."""
    conditions: list[ColumnElement[bool]] = [Entry.user_id == user_id]
    conditions.append(
        Entry.deleted_at.is_not(None) if filters.deleted else Entry.deleted_at.is_(None)
    )
    if filters.date_from is not None:
        conditions.append(Entry.entry_date >= filters.date_from)
    if filters.date_to is not None:
        conditions.append(Entry.entry_date < filters.date_to)
    if filters.tag_groups:
        groups = [_tagged(group) for group in filters.tag_groups]
        conditions.append(and_(*groups) if filters.tag_mode == "all" else or_(*groups))
    if filters.mood_min is not None:
        conditions.append(Entry.mood_rating >= filters.mood_min)
    if filters.mood_max is not None:
        conditions.append(Entry.mood_rating <= filters.mood_max)
    if filters.entry_types:
        conditions.append(Entry.entry_type.in_(filters.entry_types))
    if filters.processing_statuses:
        conditions.append(Entry.processing_status.in_(filters.processing_statuses))
    if filters.starred is not None:
        conditions.append(Entry.starred.is_(filters.starred))
    if filters.raw_data_contains is not None:
        conditions.append(Entry.raw_data.contains(filters.raw_data_contains))
    if filters.metadata_contains is not None:
        conditions.append(Entry.meta.contains(filters.metadata_contains))
    return query.where(*conditions)


# What a summary shows of an entry (besides an excerpt of its text and its tags).
SUMMARY_COLUMNS = (
    "id", "title", "entry_type", "format", "mood_rating", "entry_date", "timezone",
    "visibility", "starred", "pinned", "word_count", "processing_status", "version",
    "created_at", "updated_at", "deleted_at",
)  # fmt: skip


async def list_entries(
    session: AsyncSession,
    user_id: uuid.UUID,
    filters: EntryFilters,
    *,
    order: str,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    text_chars: int,
) -> Sequence[Row[Any]]:
    """Newest first by `order` (entry_date or created_at, or deleted_at in the trash);
    keyset pagination after (sort value, id). One round trip for a page of plain rows (no
    ORM objects): the columns of a summary, the first `text_chars` (+1) characters of the
    text, and the tag names."""
    column = {"entry_date": Entry.entry_date, "created_at": Entry.created_at}[order]
    if filters.deleted:
        column = Entry.deleted_at  # type: ignore[assignment]
    page = select(
        *(getattr(Entry, name) for name in SUMMARY_COLUMNS),
        func.left(Entry.content, text_chars + 1).label("content"),
        tag_names_of(Entry.id).label("tags"),
    )
    query = apply_filters(page, user_id, filters)
    if after is not None:
        bound = tuple_(literal(after[0], DateTime(timezone=True)), literal(after[1], Uuid()))
        query = query.where(tuple_(column, Entry.id) < bound)
    query = query.order_by(column.desc(), Entry.id.desc()).limit(limit)
    rows: Sequence[Row[Any]] = (await session.execute(query)).all()
    return rows


async def tag_names_for(
    session: AsyncSession, entry_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """The tag names of many entries in one query."""
    if not entry_ids:
        return {}
    rows = await session.execute(
        select(EntryTag.entry_id, Tag.name)
        .join(Tag, Tag.id == EntryTag.tag_id)
        .where(EntryTag.entry_id.in_(entry_ids))
        .order_by(Tag.name_key)
    )
    names: dict[uuid.UUID, list[str]] = {}
    for entry_id, name in rows:
        names.setdefault(entry_id, []).append(name)
    return names


async def set_entry_tags(
    session: AsyncSession,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    tag_ids: Sequence[uuid.UUID],
    *,
    new: bool = False,
) -> None:
    """Make the entry's tags exactly `tag_ids` (links removed and added, not rewritten); a
    `new` entry has none to remove."""
    if not new:
        await session.execute(
            delete(EntryTag).where(EntryTag.entry_id == entry_id, EntryTag.tag_id.not_in(tag_ids))
        )
    if tag_ids:
        await session.execute(
            pg_insert(EntryTag)
            .values(
                [{"user_id": user_id, "entry_id": entry_id, "tag_id": t} for t in sorted(tag_ids)]
            )
            .on_conflict_do_nothing()
        )

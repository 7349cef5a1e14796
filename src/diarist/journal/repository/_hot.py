"""The journal's hot reads as driver SQL (db.pipeline): each compiled once per shape, every
varying value a named parameter, the user the transaction's tenant (`diarist_current_user_id()`),
so that the statement can leave in the same flush as the token check."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, Uuid, bindparam, func, select, tuple_

from diarist.db.pipeline import Statement, compile_for_driver
from diarist.journal.repository._entries import (
    SUMMARY_COLUMNS,
    EntryFilters,
    apply_filters,
    entry_details,
    tag_names_of,
)
from diarist.models import Entry


@functools.cache
def _plain_timeline_sql(order: str, deleted: bool, paged: bool) -> tuple[str, dict[str, Any]]:
    """`list_entries` without filters as driver SQL, compiled once per shape (compiling costs
    about a millisecond); the user is the transaction's tenant. Its constant parameters."""
    column = Entry.deleted_at if deleted else getattr(Entry, order)
    page = select(
        *(getattr(Entry, name) for name in SUMMARY_COLUMNS),
        func.left(Entry.content, bindparam("chars", type_=Integer)).label("content"),
        tag_names_of(Entry.id).label("tags"),
    )
    query = apply_filters(page, func.diarist_current_user_id(), EntryFilters(deleted=deleted))
    if paged:
        bound = tuple_(
            bindparam("after_value", type_=DateTime(timezone=True)),
            bindparam("after_id", type_=Uuid()),
        )
        query = query.where(tuple_(column, Entry.id) < bound)
    query = query.order_by(column.desc(), Entry.id.desc()).limit(bindparam("limit", type_=Integer))
    return compile_for_driver(query)


def plain_timeline_statement(
    *,
    order: str,
    deleted: bool,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    text_chars: int,
) -> Statement:
    """`list_entries` without filters, for a hot read that checks the token in the same
    round trip (the same rows, as named tuples)."""
    sql, constants = _plain_timeline_sql(order, deleted, after is not None)
    params = {**constants, "chars": text_chars + 1, "limit": limit}
    if after is not None:
        params |= {"after_value": after[0], "after_id": after[1]}
    return Statement(sql, params)


# The columns of an entry a view shows (`presenters.view_out`), by their attribute names.
VIEW_COLUMNS = (
    *SUMMARY_COLUMNS, "content", "raw_data", "meta", "published_at", "analysis_error",
)  # fmt: skip


@functools.cache
def _entry_view_sql() -> tuple[str, dict[str, Any]]:
    """`entry_view` (live or trashed) as driver SQL, compiled once; the user is the
    transaction's tenant. Its constant parameters."""
    entry_id = bindparam("entry_id", type_=Uuid())
    query = select(
        *(getattr(Entry, name).label(name) for name in VIEW_COLUMNS),
        *(detail.label(name) for detail, name in zip(
            entry_details(entry_id), ("tags", "results", "topics"), strict=True
        )),
    ).where(Entry.user_id == func.diarist_current_user_id(), Entry.id == entry_id)  # fmt: skip
    return compile_for_driver(query)


def entry_view_statement(entry_id: uuid.UUID) -> Statement:
    """`entry_view` for a hot read that checks the token in the same round trip: one row
    with the entry's view columns, `tags`, `results` and `topics`, or none."""
    sql, constants = _entry_view_sql()
    return Statement(sql, {**constants, "entry_id": entry_id})

"""The rules of entries: create (idempotent), read, list, update with optimistic concurrency and
revisions, trash, restore, purge."""

from __future__ import annotations

import hashlib
import json
import uuid
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, func
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import preferences
from diarist.accounts.principal import PendingPrincipal
from diarist.analysis import service as analysis_service
from diarist.config import JournalSettings
from diarist.db.engine import Database, act_as
from diarist.db.pipeline import transaction
from diarist.journal import repository as repo
from diarist.journal.content import derive
from diarist.journal.errors import (
    EntryNotFound,
    IdempotencyKeyReused,
    InvalidEntry,
    RawDataTooLarge,
    RevisionNotFound,
    VersionMismatch,
)
from diarist.journal.languages import search_config_of
from diarist.journal.schemas import EntryCreate, EntryUpdate
from diarist.kit.pagination import InvalidCursor, decode_cursor, encode_cursor
from diarist.models import Entry, EntryRevision


@dataclass(frozen=True)
class WriterDefaults:
    """What an entry takes from its author's preferences when the request says nothing."""

    timezone: str
    language: str


async def writer_defaults(session: AsyncSession, user_id: uuid.UUID) -> WriterDefaults:
    mine = await preferences.preferences_of(session, user_id)
    return WriterDefaults(timezone=mine.timezone, language=mine.language)


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def content_values(raw_data: dict[str, Any], limits: JournalSettings) -> dict[str, Any]:
    """The content columns of `raw_data` (derived text, format, words, hash), within the limit."""
    size = len(_canonical(raw_data))
    if size > limits.max_raw_data_bytes:
        raise RawDataTooLarge(
            f"raw_data is {size} bytes; the limit is {limits.max_raw_data_bytes}.",
            limit=limits.max_raw_data_bytes,
        )
    derived = derive(raw_data)
    return {
        "raw_data": raw_data,
        "format": derived.format,
        "content": derived.content,
        "content_hash": derived.content_hash,
        "word_count": derived.word_count,
    }


def _localize(moment: datetime, zone: str) -> datetime:
    """A naive entry_date is wall-clock time in the entry's time zone."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    return moment


def _check_publication(visibility: str, published_at: datetime | None) -> None:
    if published_at is not None and visibility == "private":
        raise InvalidEntry(
            "published_at needs visibility 'shared' or 'public'.", field="published_at"
        )


def _request_hash(data: EntryCreate) -> bytes:
    return hashlib.sha256(_canonical(data.model_dump(mode="json"))).digest()


def new_entry_values(
    data: EntryCreate,
    limits: JournalSettings,
    defaults: WriterDefaults,
    idempotency_key: str | None,
    *,
    content: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The columns of a new entry (by attribute name) but its author's; `entry_date` None
    when the request names none (the moment of the insert). `content`: its content columns
    derived already (`content_values`)."""
    zone = data.timezone or defaults.timezone
    visibility = data.visibility or "private"
    _check_publication(visibility, data.published_at)
    values: dict[str, Any] = {
        **(content if content is not None else content_values(data.raw_data, limits)),
        "title": data.title,
        "entry_type": data.entry_type or "text",
        "meta": data.metadata or {},
        "mood_rating": data.mood_rating,
        "entry_date": _localize(data.entry_date, zone) if data.entry_date else None,
        "timezone": zone,
        "visibility": visibility,
        "published_at": data.published_at,
        "starred": bool(data.starred),
        "pinned": bool(data.pinned),
        "processing_status": "pending",
    }
    if idempotency_key is not None:
        values |= {"idempotency_key": idempotency_key, "idempotency_hash": _request_hash(data)}
    return values


async def _first_of(
    session: AsyncSession, user_id: uuid.UUID, idempotency_key: str, data: EntryCreate
) -> Entry:
    """The entry made by the first request with this key, if this one is its retry."""
    existing = await repo.entry_by_idempotency_key(session, user_id, idempotency_key)
    if existing is None or existing.idempotency_hash != _request_hash(data):
        raise IdempotencyKeyReused("This Idempotency-Key was used for a different request.")
    return existing


async def create_entry(
    session: AsyncSession,
    user_id: uuid.UUID,
    data: EntryCreate,
    limits: JournalSettings,
    *,
    idempotency_key: str | None = None,
) -> tuple[Entry, bool]:
    """Create an entry (pending analysis) with its tags; returns (entry, replayed).

    With an idempotency key, a retry of the same request returns the entry made the first
    time; the same key with a different request is refused.
    """
    defaults = await writer_defaults(session, user_id)
    values = new_entry_values(data, limits, defaults, idempotency_key)
    values |= {
        "user_id": user_id,
        "entry_date": values["entry_date"] or func.now(),
        "search_config": search_config_of(defaults.language),
    }
    entry = await repo.insert_entry(session, values)
    if entry is None:  # the key was used before (or concurrently, and that one committed)
        assert idempotency_key is not None
        return await _first_of(session, user_id, idempotency_key, data), True
    if data.tags:
        tag_ids = await repo.ensure_tags(session, user_id, data.tags)
        await repo.set_entry_tags(session, user_id, entry.id, tag_ids, new=True)
    await analysis_service.request_analysis(session, entry.id, user_id, new=True)
    return entry, False


async def create_entry_checked(
    session: AsyncSession,
    pending: PendingPrincipal,
    data: EntryCreate,
    limits: JournalSettings,
    *,
    idempotency_key: str | None = None,
) -> tuple[repo.EntryView, bool]:
    """`create_entry` in two round trips (db.pipeline): the token check with the new entry's
    id, then the writes, the entry as GET shows it and the commit. Returns (view, replayed);
    a replay reads the first request's entry afterwards."""
    async with transaction(session) as writing:
        principal, mine, (ids,) = await pending.check(writing, repo.NEW_ENTRY_ID)
        entry_id: uuid.UUID = ids[0].id
        defaults = WriterDefaults(timezone=mine.timezone, language=mine.language)
        values = new_entry_values(data, limits, defaults, idempotency_key)
        statements = repo.create_statements(
            entry_id,
            values | {"language": mine.language},
            data.tags or [],
            analysis_service.analysis_deferral(entry_id, principal.user_id),
        )
        inserted, *_, view = await writing.send(
            [*statements, repo.entry_view_statement(entry_id)], last=True
        )
    if inserted:
        return _view_of(view[0]), False
    assert idempotency_key is not None  # only a taken key inserts nothing
    await act_as(session, principal.user_id)  # the transaction, and its tenant, have ended
    first = await _first_of(session, principal.user_id, idempotency_key, data)
    return await entry_view(session, principal.user_id, first.id, entry=first), True


def _view_of(row: Any) -> repo.EntryView:
    """The view of an `entry_view_statement` row."""
    return repo.EntryView(row, list(row.tags), dict(row.results), list(row.topics))


async def entry_view(
    session: AsyncSession, user_id: uuid.UUID, entry_id: uuid.UUID, *, entry: Entry | None = None
) -> repo.EntryView:
    """The entry (live or trashed) with its tags, analysis results and topics; given `entry`
    (just written), only what goes with it."""
    view = await repo.entry_view(session, user_id, entry_id, entry=entry)
    if view is None:
        raise EntryNotFound("No such entry.")
    return view


async def get_entry(
    session: AsyncSession, user_id: uuid.UUID, entry_id: uuid.UUID, *, deleted: bool | None = None
) -> Entry:
    entry = await repo.get_entry(session, user_id, entry_id, deleted=deleted)
    if entry is None:
        raise EntryNotFound("No such entry.")
    return entry


def entry_text_if_plain(entry: Entry) -> str | None:
    """The text as written of a Markdown or plain-text entry (None for EditorJS or other
    JSON, whose text is derived)."""
    if entry.format in ("markdown", "text"):
        written = entry.raw_data.get("text")
        if isinstance(written, str):
            return written
    return None


async def update_entry(
    session: AsyncSession,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    patch: EntryUpdate,
    limits: JournalSettings,
    *,
    expected_version: int | None,
) -> Entry:
    """Apply a partial update. With `expected_version` (If-Match) a stale version is refused;
    the row lock makes concurrent writers of one version succeed exactly once."""
    entry = await repo.get_entry(session, user_id, entry_id, for_update=True)
    if entry is None:
        raise EntryNotFound("No such entry (or it is in the trash).")
    if expected_version is not None and entry.version != expected_version:
        raise VersionMismatch(
            f"The entry is at version {entry.version}, not {expected_version}.",
            current_version=entry.version,
        )
    fields = patch.model_dump(exclude_unset=True)
    values: dict[str, Any] = {}
    reanalyse = False
    if "raw_data" in fields:
        if patch.raw_data is None:
            raise InvalidEntry("raw_data cannot be null.", field="raw_data")
        values |= content_values(patch.raw_data, limits)
        reanalyse = values["content_hash"] != entry.content_hash
    for name in ("title", "mood_rating", "published_at"):
        if name in fields:
            values[name] = fields[name]
    for name in ("entry_type", "visibility", "starred", "pinned", "timezone"):
        if name in fields:
            if fields[name] is None:
                raise InvalidEntry(f"{name} cannot be null.", field=name)
            values[name] = fields[name]
    if "metadata" in fields:
        values["meta"] = fields["metadata"] or {}
    if "entry_date" in fields:
        if patch.entry_date is None:
            raise InvalidEntry("entry_date cannot be null.", field="entry_date")
        values["entry_date"] = _localize(patch.entry_date, values.get("timezone", entry.timezone))
    _check_publication(
        values.get("visibility", entry.visibility), values.get("published_at", entry.published_at)
    )
    text_changes = ("title" in values and values["title"] != entry.title) or (
        "raw_data" in values and values["raw_data"] != entry.raw_data
    )
    if text_changes:
        await repo.insert_revision(session, entry)
    if "tags" in fields:
        tag_ids = await repo.ensure_tags(session, user_id, patch.tags or [])
        await repo.set_entry_tags(session, user_id, entry.id, tag_ids)
    values |= {"version": entry.version + 1, "updated_at": func.now()}
    updated = await repo.update_entry(session, entry.id, values)
    if reanalyse:  # the text changed; an edit of anything else is not analysed again
        await analysis_service.request_analysis(session, entry.id, user_id)
        await session.refresh(updated)
    return updated


async def trash_entry(session: AsyncSession, user_id: uuid.UUID, entry_id: uuid.UUID) -> None:
    """Move to the trash (kept for the configured number of days, then purged)."""
    entry = await repo.get_entry(session, user_id, entry_id, for_update=True)
    if entry is None:
        raise EntryNotFound("No such entry (or it is in the trash already).")
    await repo.update_entry(session, entry.id, {"deleted_at": func.now()})


async def restore_entry(session: AsyncSession, user_id: uuid.UUID, entry_id: uuid.UUID) -> Entry:
    entry = await repo.get_entry(session, user_id, entry_id, deleted=True, for_update=True)
    if entry is None:
        raise EntryNotFound("No such entry in the trash.")
    return await repo.update_entry(session, entry.id, {"deleted_at": None})


async def purge_entry(session: AsyncSession, user_id: uuid.UUID, entry_id: uuid.UUID) -> None:
    """Delete for good, from the trash or not; its revisions and tag links go with it."""
    if not await repo.delete_entry(session, user_id, entry_id):
        raise EntryNotFound("No such entry.")


async def purge_expired_trash(session: AsyncSession, limits: JournalSettings) -> int:
    """Hard-delete entries trashed longer than the retention (system role, every user)."""
    cutoff = datetime.now(UTC) - timedelta(days=limits.trash_days)
    total = 0
    while purged := await repo.purge_trash(session, cutoff):
        total += purged
    return total


async def fold_vocabulary(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Count the user's recorded word changes into their vocabulary (as search reads it)."""
    return await repo.fold_vocabulary(session, user_id)


async def fold_all_vocabularies(system_database: Database, batch: int = 500) -> int:
    """Count every user's recorded word changes into their vocabulary, one transaction per
    user (system role); the changes counted."""
    total = 0
    while True:
        async with system_database.unit_of_work() as session:
            users = await repo.users_with_vocabulary_changes(session, batch)
        for user_id in users:
            async with system_database.unit_of_work() as session:
                total += await repo.fold_vocabulary(session, user_id)
        if len(users) < batch:
            return total


# --- listing ----------------------------------------------------------------------------------


def entry_cursor(entry: Entry | Row[Any], order: str, deleted: bool) -> str:
    value: datetime | None = entry.deleted_at if deleted else getattr(entry, order)
    assert value is not None
    return encode_cursor("trash" if deleted else order, value.isoformat(), entry.id)


def parse_entry_cursor(cursor: str, order: str, deleted: bool) -> tuple[datetime, uuid.UUID]:
    mode, value, entry_id = decode_cursor(cursor, 3)
    if mode != ("trash" if deleted else order):
        raise InvalidCursor("The cursor belongs to a different ordering of the list.")
    try:
        return datetime.fromisoformat(value), uuid.UUID(entry_id)
    except ValueError:
        raise InvalidCursor("The cursor is not one this server issued.") from None


async def resolve_tag_groups(
    session: AsyncSession, user_id: uuid.UUID, names: list[str]
) -> tuple[list[list[uuid.UUID]], bool]:
    """Each named tag that exists with its descendants, and whether every name existed."""
    groups = await repo.tag_groups_by_names(session, user_id, names)
    return groups, len(groups) == len({name.lower() for name in names})


async def list_entries(
    session: AsyncSession,
    user_id: uuid.UUID,
    filters: repo.EntryFilters,
    *,
    order: str,
    cursor: str | None,
    limit: int,
    text_chars: int,
) -> tuple[Sequence[Row[Any]], str | None]:
    """A page of summary rows (`repository.list_entries`) and the next page's cursor."""
    after = parse_entry_cursor(cursor, order, filters.deleted) if cursor else None
    rows = await repo.list_entries(
        session, user_id, filters, order=order, after=after, limit=limit + 1,
        text_chars=text_chars,
    )  # fmt: skip
    return _page_of(rows, limit, order, filters.deleted)


def _page_of(
    rows: Sequence[Any], limit: int, order: str, deleted: bool
) -> tuple[Sequence[Any], str | None]:
    """The first `limit` of `limit + 1` rows read, and the next page's cursor if there is one."""
    page = rows[:limit]
    more = len(rows) > limit
    return page, entry_cursor(page[-1], order, deleted) if more and page else None


async def list_plain_entries_checked(
    session: AsyncSession,
    pending: PendingPrincipal,
    *,
    order: str,
    deleted: bool,
    cursor: str | None,
    limit: int,
    text_chars: int,
) -> tuple[Sequence[Any], str | None]:
    """A page of the timeline without filters and the next page's cursor, read in the same
    round trip as the token check (db.pipeline), which is confirmed before anything else."""
    try:
        after = parse_entry_cursor(cursor, order, deleted) if cursor else None
    except InvalidCursor:
        await pending.read(session)  # the token alone: a bad one says 401 before the cursor
        raise
    statement = repo.plain_timeline_statement(
        order=order, deleted=deleted, after=after, limit=limit + 1, text_chars=text_chars
    )
    _, (rows,) = await pending.read(session, statement)
    return _page_of(rows, limit, order, deleted)


async def entry_view_checked(
    session: AsyncSession, pending: PendingPrincipal, entry_id: uuid.UUID
) -> repo.EntryView:
    """The entry (live or trashed) with its tags, analysis and topics, read in the same round
    trip as the token check (db.pipeline), which is confirmed before anything else."""
    _, (found,) = await pending.read(session, repo.entry_view_statement(entry_id))
    if not found:
        raise EntryNotFound("No such entry.")
    return _view_of(found[0])


async def reindex_search(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Index every entry with the text configuration of the user's current language (after a
    language change); analysis bookkeeping only, the entries' versions stay."""
    defaults = await writer_defaults(session, user_id)
    return await repo.set_search_config(session, user_id, defaults.language)


async def tag_names_for(
    session: AsyncSession, entry_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """The tag names of many entries (one query)."""
    return await repo.tag_names_for(session, entry_ids)


# --- revisions --------------------------------------------------------------------------------


async def list_revisions(
    session: AsyncSession, user_id: uuid.UUID, entry_id: uuid.UUID
) -> list[EntryRevision]:
    await get_entry(session, user_id, entry_id)
    return await repo.list_revisions(session, entry_id)


async def get_revision(
    session: AsyncSession, user_id: uuid.UUID, entry_id: uuid.UUID, version: int
) -> EntryRevision:
    await get_entry(session, user_id, entry_id)
    revision = await repo.get_revision(session, entry_id, version)
    if revision is None:
        raise RevisionNotFound(f"The entry has no revision {version}.")
    return revision


async def restore_revision(
    session: AsyncSession,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    version: int,
    limits: JournalSettings,
    *,
    expected_version: int | None,
) -> Entry:
    """Bring back an earlier title and raw_data as a new version (the current one is kept)."""
    revision = await get_revision(session, user_id, entry_id, version)
    patch = EntryUpdate(title=revision.title, raw_data=revision.raw_data)
    return await update_entry(
        session, user_id, entry_id, patch, limits, expected_version=expected_version
    )

"""Many entries from another tool at once: the journal's side of an import.

An imported entry is known by its source and the source's own id, with a digest of what was
imported. Importing the same file again creates what is new (many rows per statement), updates
what changed (as an edit: a revision keeps the earlier text) and leaves the rest alone; an
entry the user has put in the trash stays there.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import preferences
from diarist.analysis import service as analysis_service
from diarist.config import JournalSettings
from diarist.errors import DiaristError
from diarist.journal import repository as repo
from diarist.journal import service
from diarist.journal.schemas import EntryCreate, EntryUpdate


@dataclass(frozen=True)
class Incoming:
    """One entry as the source has it: its id there, the entry, and a digest of the source's
    record (a different digest on a later import means the entry changed there)."""

    import_id: str
    entry: EntryCreate
    digest: bytes
    # The content columns derived from `entry.raw_data` (the costly part of a new entry).
    content: dict[str, Any]


def incoming(
    import_id: str, fields: dict[str, Any], digest: bytes, limits: JournalSettings
) -> Incoming | str:
    """The fields (those of `POST /api/v1/entries`) as an entry the API would accept, with
    its content derived, or why not: the first problem, without quoting the input. Needs no
    database: an import runs it in a thread while the previous batch is written."""
    try:
        entry = EntryCreate.model_validate(fields)
        content = service.content_values(entry.raw_data, limits)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}" if where else first["msg"]
    except DiaristError as exc:
        return exc.detail
    return Incoming(import_id, entry, digest, content)


@dataclass
class BatchOutcome:
    """What became of each incoming entry, by import id; `failed` with the reason."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    # The entry of each incoming one that is in the journal now (created, updated, unchanged).
    entry_ids: dict[str, uuid.UUID] = field(default_factory=dict)


async def write_imported(
    session: AsyncSession,
    user_id: uuid.UUID,
    source: str,
    batch: Sequence[Incoming],
    limits: JournalSettings,
) -> BatchOutcome:
    """Write a batch in the session's transaction (the caller's unit of work commits it).
    An entry the journal refuses (too large, say) fails alone; the others are written."""
    outcome = BatchOutcome()
    known = await repo.imported_entries(session, user_id, source, [i.import_id for i in batch])
    mine = await preferences.preferences_of(session, user_id)
    defaults = service.WriterDefaults(timezone=mine.timezone, language=mine.language)
    rows, tags = [], {}
    for incoming in batch:
        earlier = known.get(incoming.import_id)
        if earlier is not None:
            outcome.entry_ids[incoming.import_id] = earlier.id
        if earlier is not None and (
            earlier.trashed or earlier.original or earlier.import_hash == incoming.digest
        ):
            outcome.unchanged.append(incoming.import_id)
            continue
        try:
            if earlier is not None:
                await _update(session, user_id, earlier.id, incoming, limits)
                outcome.updated.append(incoming.import_id)
                continue
            values = service.new_entry_values(
                incoming.entry, limits, defaults, None, content=incoming.content
            )
        except DiaristError as exc:
            outcome.failed.append((incoming.import_id, exc.detail))
            continue
        meta = values.pop("meta")
        rows.append(values | {"metadata": meta, "import_id": incoming.import_id,
                              "import_hash": incoming.digest})  # fmt: skip
        tags[incoming.import_id] = incoming.entry.tags or []
    created = await repo.insert_imported(session, source, defaults.language, rows)
    names = sorted({name for import_id in created for name in tags[import_id]})
    await repo.ensure_tags(session, user_id, names)
    links = [(created[i], name) for i in created for name in tags[i]]
    await repo.link_tags(session, user_id, links)
    await analysis_service.defer_batch_analysis(session, user_id, list(created.values()))
    outcome.created = list(created)
    outcome.entry_ids |= created
    outcome.unchanged += [row["import_id"] for row in rows if row["import_id"] not in created]
    return outcome


async def _update(
    session: AsyncSession,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    incoming: Incoming,
    limits: JournalSettings,
) -> None:
    """The source's changed entry as an edit of ours: every imported field set again."""
    fields = incoming.entry.model_dump(mode="json", exclude_unset=True)
    fields.setdefault("tags", [])
    patch = EntryUpdate.model_validate(fields)
    await service.update_entry(session, user_id, entry_id, patch, limits, expected_version=None)
    await repo.set_import_hash(session, entry_id, incoming.digest)

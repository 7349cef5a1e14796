"""An import: the source's entries read one at a time, checked as the API checks an entry, and
written in batches (one transaction each, all or nothing), with a report of what became of
every entry. Re-running it is safe: what was imported before and is unchanged is left alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diarist.config import JournalSettings
from diarist.db.engine import Database
from diarist.imports.errors import InvalidImportFile
from diarist.imports.sources import READERS, SOURCE_NAMES
from diarist.journal import bulk

BATCH_SIZE = 500
# A report lists at most this many failed entries by id (it counts them all).
MAX_LISTED_FAILURES = 1000


@dataclass
class ImportReport:
    """What an import did (or, with `dry_run`, would do)."""

    format: str
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed

    def fail(self, import_id: str, reason: str) -> None:
        self.failed += 1
        if len(self.failures) < MAX_LISTED_FAILURES:
            self.failures.append({"id": import_id, "reason": reason})

    def add(self, outcome: bulk.BatchOutcome) -> None:
        self.created += len(outcome.created)
        self.updated += len(outcome.updated)
        self.unchanged += len(outcome.unchanged)
        for import_id, reason in outcome.failed:
            self.fail(import_id, reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format, "dry_run": self.dry_run, "read": self.read,
            "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "failed": self.failed, "failures": self.failures,
        }  # fmt: skip


class _DryRun(Exception):
    """Raised inside a batch's unit of work to roll it back after counting."""


async def import_file(
    database: Database,
    user_id: uuid.UUID,
    source_format: str,
    path: Path,
    limits: JournalSettings,
    *,
    dry_run: bool = False,
    max_file_bytes: int,
    on_progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import `path` (in `source_format`, a key of READERS) into the user's journal. A file
    that cannot be read at all raises before anything is written; batches written before a
    later part of the file turns out damaged stay written (re-run after fixing the file)."""
    report = ImportReport(source_format, dry_run)
    source = SOURCE_NAMES[source_format]
    seen: set[str] = set()
    batch: list[bulk.Incoming] = []

    async def flush() -> None:
        try:
            async with database.unit_of_work(user_id) as session:
                report.add(await bulk.write_imported(session, user_id, source, batch, limits))
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        batch.clear()
        if on_progress is not None:
            on_progress(report)

    for record in READERS[source_format](path, max_file_bytes):
        if record.error is not None:
            report.fail(record.import_id, record.error)
            continue
        if record.import_id in seen:
            report.fail(record.import_id, "the file holds another entry with this id")
            continue
        seen.add(record.import_id)
        checked = bulk.incoming(record.import_id, record.fields, record.digest)
        if isinstance(checked, str):
            report.fail(record.import_id, checked)
            continue
        batch.append(checked)
        if len(batch) >= BATCH_SIZE:
            await flush()
    if batch:
        await flush()
    if not report.read:
        raise InvalidImportFile(f"Found no entries in this file as {source_format}.")
    return report

"""An import: the source's entries read one at a time, checked as the API checks an entry, and
written in batches (one transaction each, all or nothing), with a report of what became of
every entry. Re-running it is safe: what was imported before and is unchanged is left alone.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import anyio
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.config import JournalSettings
from diarist.db.engine import Database
from diarist.db.jobs import defer
from diarist.errors import DiaristError
from diarist.imports import jobs
from diarist.imports import repository as repo
from diarist.imports.errors import ImportNotFound, InvalidImportFile
from diarist.imports.sources import READERS, SOURCE_NAMES, SourceRecord, read_memos
from diarist.journal import bulk
from diarist.models import Import

BATCH_SIZE = 500
# One file (or zip member) of an import is read up to this size, counted as it is inflated.
MAX_FILE_BYTES = 4 * 1024**3
_log = structlog.get_logger("diarist.imports")
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
    on_progress: Callable[[ImportReport], Awaitable[None]] | None = None,
) -> ImportReport:
    """Import `path` (in `source_format`, a key of READERS) into the user's journal. A file
    that cannot be read at all raises before anything is written; batches written before a
    later part of the file turns out damaged stay written (re-run after fixing the file)."""
    records = READERS[source_format](path, max_file_bytes)
    return await import_records(
        database, user_id, source_format, SOURCE_NAMES[source_format], records, limits,
        dry_run=dry_run, on_progress=on_progress,
    )  # fmt: skip


async def import_memos(
    database: Database,
    user_id: uuid.UUID,
    base_url: str,
    token: str,
    limits: JournalSettings,
    *,
    dry_run: bool = False,
    on_progress: Callable[[ImportReport], Awaitable[None]] | None = None,
) -> ImportReport:
    """Import every memo of a Memos server's user (`token`) into the user's journal."""
    records = read_memos(base_url, token)
    return await import_records(
        database, user_id, "memos", "memos", records, limits, dry_run=dry_run,
        on_progress=on_progress,
    )  # fmt: skip


async def import_records(
    database: Database,
    user_id: uuid.UUID,
    source_format: str,
    source: str,
    records: Iterator[SourceRecord],
    limits: JournalSettings,
    *,
    dry_run: bool = False,
    on_progress: Callable[[ImportReport], Awaitable[None]] | None = None,
) -> ImportReport:
    """Import a reader's records (recorded as from `source`) in batches; the report."""
    report = ImportReport(source_format, dry_run)
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
            await on_progress(report)

    for record in records:
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
        raise InvalidImportFile(f"Found no entries to import as {source_format}.")
    return report


# Imports over the API: the upload waits under the data dir for its job.


def upload_path(data_dir: Path, import_id: uuid.UUID) -> Path:
    return data_dir / "imports" / f"{import_id}.upload"


def clean_file_name(name: str | None) -> str:
    """The uploaded file's name as shown back (never used as a path): its last part, printable,
    at most 255 characters."""
    last = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(c for c in last if c.isprintable()).strip()
    return printable[:255] or "upload"


async def start_import(
    session: AsyncSession,
    user_id: uuid.UUID,
    source_format: str,
    upload: BinaryIO,
    file_name: str | None,
    *,
    dry_run: bool,
    data_dir: Path,
) -> Import:
    """Keep the uploaded file under the data dir and queue its import, in the caller's unit of
    work (the job exists only if it commits). The row answers `GET /api/v1/imports/{id}`."""
    size = await anyio.to_thread.run_sync(_size_of, upload)
    row = await repo.insert_import(session, {
        "user_id": user_id, "format": source_format, "file_name": clean_file_name(file_name),
        "size_bytes": size, "dry_run": dry_run,
    })  # fmt: skip
    target = upload_path(data_dir, row.id)
    try:
        await anyio.to_thread.run_sync(_store, upload, target)
        await defer(session, jobs.RUN_IMPORT, import_id=str(row.id), user_id=str(user_id))
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return row


def _size_of(upload: BinaryIO) -> int:
    upload.seek(0, 2)
    size = upload.tell()
    upload.seek(0)
    return size


def _store(upload: BinaryIO, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with target.open("xb") as out:
        shutil.copyfileobj(upload, out, 1 << 20)


async def get_import(session: AsyncSession, user_id: uuid.UUID, import_id: uuid.UUID) -> Import:
    found = await repo.get_import(session, user_id, import_id)
    if found is None:
        raise ImportNotFound("No such import.")
    return found


async def list_imports(session: AsyncSession, user_id: uuid.UUID, limit: int) -> list[Import]:
    return await repo.list_imports(session, user_id, limit)


async def run_import(
    database: Database,
    user_id: uuid.UUID,
    import_id: uuid.UUID,
    data_dir: Path,
    limits: JournalSettings,
) -> str:
    """The job's work: import the kept file, recording progress after each batch and the
    report at the end; the file is removed either way. A job run again after a crash imports
    again (entries written before are found unchanged). Returns the final status."""
    async with database.unit_of_work(user_id) as session:
        row = await repo.get_import(session, user_id, import_id)
        if row is None:  # its account was deleted meanwhile
            upload_path(data_dir, import_id).unlink(missing_ok=True)
            return "gone"
        if row.status in ("done", "failed"):
            return row.status
        source_format, dry_run = row.format, row.dry_run
        await repo.set_import(session, import_id, {"status": "running", "started_at": repo.now()})
    path = upload_path(data_dir, import_id)

    async def save(report: ImportReport, **more: Any) -> None:
        async with database.unit_of_work(user_id) as session:
            await repo.set_import(session, import_id, _counts(report) | more)

    report = ImportReport(source_format, dry_run)
    try:
        report = await import_file(
            database, user_id, source_format, path, limits, dry_run=dry_run,
            max_file_bytes=MAX_FILE_BYTES, on_progress=save,
        )  # fmt: skip
    except DiaristError as exc:
        await save(report, status="failed", error_code=exc.code, error=exc.detail,
                   finished_at=repo.now())  # fmt: skip
        return "failed"
    except Exception:
        _log.exception("import_crashed", import_id=str(import_id))
        ours = "The import stopped on an error of ours."
        await save(report, status="failed", error_code="internal_error", error=ours,
                   finished_at=repo.now())  # fmt: skip
        return "failed"
    finally:
        path.unlink(missing_ok=True)
    await save(report, status="done", finished_at=repo.now())
    return "done"


def _counts(report: ImportReport) -> dict[str, Any]:
    return {
        "read": report.read, "created": report.created, "updated": report.updated,
        "unchanged": report.unchanged, "failed": report.failed, "failures": report.failures,
    }  # fmt: skip


# An upload whose import no longer waits (its account deleted, its job lost) is removed this
# long after it was written; younger ones may belong to a request not yet committed.
ORPHAN_AFTER = timedelta(hours=1)


async def sweep_uploads(session: AsyncSession, data_dir: Path) -> int:
    """Mark failed the imports whose job is gone (it kept killing its worker, say), then
    remove the uploads no import waits for any more (system role); how many uploads."""
    lost = await repo.fail_lost_imports(
        session, datetime.now(UTC) - ORPHAN_AFTER, "The import's job ended without finishing it."
    )
    if lost:
        _log.warning("imports_lost", imports=lost)
    folder = data_dir / "imports"
    if not folder.is_dir():
        return 0
    cutoff = datetime.now(UTC) - ORPHAN_AFTER
    kept: dict[uuid.UUID, Path] = {}
    for path in folder.glob("*.upload"):
        try:
            import_id = uuid.UUID(path.stem)
        except ValueError:
            continue
        if datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff:
            kept[import_id] = path
    if not kept:
        return 0
    waiting = await repo.waiting_import_ids(session, list(kept))
    orphans = [path for import_id, path in kept.items() if import_id not in waiting]
    for path in orphans:
        path.unlink(missing_ok=True)
    return len(orphans)

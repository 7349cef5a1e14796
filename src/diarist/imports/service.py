"""An import: the source's entries read one at a time, checked as the API checks an entry, and
written in batches (one transaction each, all or nothing), with a report of what became of
every entry. Re-running it is safe: what was imported before and is unchanged is left alone.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import json
import os
import re
import shutil
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import anyio
import psycopg
import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.attachments import service as attachments_service
from diarist.attachments.service import Attaching
from diarist.config import JournalSettings
from diarist.db.engine import Database
from diarist.db.jobs import defer
from diarist.errors import DiaristError
from diarist.imports import jobs
from diarist.imports import repository as repo
from diarist.imports.errors import (
    ImportNotFound,
    InvalidImportFile,
    InvalidImportRequest,
    TooManyImports,
)
from diarist.imports.sources import READERS, SOURCE_NAMES, SourceRecord, read_memos
from diarist.journal import bulk
from diarist.kit.net import resolves_to_public
from diarist.models import Import

BATCH_SIZE = 500
# Batches written at once, each in its own transaction on its own connection: PostgreSQL's
# share of a batch (the search vector, the vocabulary, the row audit, the tag links) is most
# of its cost, and two backends use two cores (docs/benchmarks.md#imports).
WRITERS = 2
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
    # Files attached to the entries (or, with `dry_run`, found to attach), and those that
    # could not be (listed among `failures` as `<entry id>/<file id>`).
    attached: int = 0
    attachments_failed: int = 0

    @property
    def read(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed

    def fail(self, import_id: str, reason: str) -> None:
        self.failed += 1
        if len(self.failures) < MAX_LISTED_FAILURES:
            self.failures.append({"id": import_id, "reason": reason})

    def fail_attachment(self, import_id: str, source_id: str, reason: str) -> None:
        self.attachments_failed += 1
        if len(self.failures) < MAX_LISTED_FAILURES:
            self.failures.append({"id": f"{import_id}/{source_id}", "reason": reason})

    def add(self, outcome: bulk.BatchOutcome) -> None:
        self.created += len(outcome.created)
        self.updated += len(outcome.updated)
        self.unchanged += len(outcome.unchanged)
        for import_id, reason in outcome.failed:
            self.fail(import_id, reason)

    def merge(self, batch: ImportReport) -> None:
        """Count in what one batch did."""
        self.created += batch.created
        self.updated += batch.updated
        self.unchanged += batch.unchanged
        self.failed += batch.failed
        self.attached += batch.attached
        self.attachments_failed += batch.attachments_failed
        self.failures += batch.failures[: MAX_LISTED_FAILURES - len(self.failures)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format, "dry_run": self.dry_run, "read": self.read,
            "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "failed": self.failed, "attached": self.attached,
            "attachments_failed": self.attachments_failed, "failures": self.failures,
        }  # fmt: skip


# What PostgreSQL may answer to one of two transactions that meet: the batch is tried again.
_TRANSIENT = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
_TRIES = 3


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
    attaching: Attaching | None = None,
    on_progress: Callable[[ImportReport], Awaitable[None]] | None = None,
) -> ImportReport:
    """Import `path` (in `source_format`, a key of READERS) into the user's journal, with the
    files its entries hold when `attaching` says where to keep them. A file that cannot be
    read at all raises before anything is written; batches written before a later part of
    the file turns out damaged stay written (re-run after fixing the file)."""
    records = READERS[source_format](path, max_file_bytes)
    return await import_records(
        database, user_id, source_format, SOURCE_NAMES[source_format], records, limits,
        dry_run=dry_run, attaching=attaching, on_progress=on_progress,
    )  # fmt: skip


async def import_memos(
    database: Database,
    user_id: uuid.UUID,
    base_url: str,
    token: str,
    limits: JournalSettings,
    *,
    dry_run: bool = False,
    attaching: Attaching | None = None,
    on_progress: Callable[[ImportReport], Awaitable[None]] | None = None,
) -> ImportReport:
    """Import every memo of a Memos server's user (`token`) into the user's journal, with
    its files when `attaching` says where to keep them."""
    records = read_memos(base_url, token)
    return await import_records(
        database, user_id, "memos", "memos", records, limits, dry_run=dry_run,
        attaching=attaching, on_progress=on_progress,
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
    attaching: Attaching | None = None,
    on_progress: Callable[[ImportReport], Awaitable[None]] | None = None,
) -> ImportReport:
    """Import a reader's records (recorded as from `source`) in batches, each with the files
    of its entries in the same transaction; the report. The source is read, checked and
    derived in a thread of its own while the previous batch is written (two cores: the
    parsing and PostgreSQL's work overlap)."""
    report = ImportReport(source_format, dry_run)
    seen: set[str] = set()

    async def flush(batch: list[bulk.Incoming], with_media: list[SourceRecord]) -> None:
        # Counted apart and added once the batch is in: a batch the database chose as a
        # deadlock's victim (two writers locking the same tags in another order) is written
        # again from the start, and only its last try counts.
        for attempt in range(1, _TRIES + 1):
            counted = ImportReport(source_format, dry_run)
            try:
                async with database.unit_of_work(user_id) as session:
                    outcome = await bulk.write_imported(session, user_id, source, batch, limits)
                    counted.add(outcome)
                    await _attach_media(session, user_id, with_media, outcome, attaching, counted)
                    if dry_run:
                        raise _DryRun
            except _DryRun:
                pass
            except DBAPIError as exc:
                if attempt == _TRIES or not isinstance(exc.orig, _TRANSIENT):
                    raise
                _log.info("import_batch_retried", attempt=attempt, sqlstate=exc.orig.sqlstate)
                continue
            report.merge(counted)
            break
        if on_progress is not None:
            await on_progress(report)

    async def write(checked: Checked) -> None:
        batch: list[bulk.Incoming] = []
        with_media: list[SourceRecord] = []
        for record, outcome in checked:
            if record.error is not None:
                report.fail(record.import_id, record.error)
            elif record.import_id in seen:
                report.fail(record.import_id, "the file holds another entry with this id")
            elif not isinstance(outcome, bulk.Incoming):
                seen.add(record.import_id)
                report.fail(record.import_id, outcome or "unreadable")
            else:
                seen.add(record.import_id)
                batch.append(outcome)
                if record.media or record.missing_media:
                    with_media.append(record)
        if batch:
            await flush(batch, with_media)

    # Closed however the loop ends (a failed batch, a cancelled job): the reader stops.
    async with contextlib.aclosing(_checked_batches(records, limits)) as batches:
        writers = 1 if database.one_connection else WRITERS
        await _write_concurrently(batches, write, writers)
    if not report.read:
        raise InvalidImportFile(f"Found no entries to import as {source_format}.")
    return report


Checked = list[tuple[SourceRecord, "bulk.Incoming | str | None"]]


async def _write_concurrently(
    batches: AsyncIterator[Checked],
    write: Callable[[Checked], Coroutine[Any, Any, None]],
    writers: int = WRITERS,
) -> None:
    """`write` each batch, up to `writers` at once (the next is read meanwhile). The first
    failure stops the import: the batches still being written are cancelled (their
    transactions roll back), those committed stay, and a run again finds them unchanged."""
    writing: set[asyncio.Task[None]] = set()

    async def settle(until: int) -> None:
        nonlocal writing
        while len(writing) > until:
            done, writing = await asyncio.wait(writing, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()

    try:
        async for checked in batches:
            await settle(writers - 1)
            writing.add(asyncio.create_task(write(checked)))
        await settle(0)
    finally:
        for task in writing:
            task.cancel()
        await asyncio.gather(*writing, return_exceptions=True)


async def _checked_batches(
    records: Iterator[SourceRecord], limits: JournalSettings
) -> AsyncGenerator[Checked, None]:
    """The records in batches of BATCH_SIZE readable ones, each checked as the API checks an
    entry (`bulk.incoming`), read one batch ahead in a thread of their own: the reader (a
    generator) always runs on that one thread, never two batches at once."""
    loop = asyncio.get_running_loop()
    reading = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="import")
    ahead = loop.run_in_executor(reading, _read_batch, records, limits)
    try:
        while checked := await ahead:
            ahead = loop.run_in_executor(reading, _read_batch, records, limits)
            yield checked
    finally:
        # The reader may hold the upload (or a Memos connection) open: it is closed on its
        # own thread once the batch in flight is read, awaited on the loop, never blocking
        # it (a cancelled job's thread finishes its batch meanwhile). An error of a batch
        # never asked for is dropped with it.
        await asyncio.wait([ahead])
        if not ahead.cancelled():
            ahead.exception()
        close = getattr(records, "close", None)
        if close is not None:
            await asyncio.shield(loop.run_in_executor(reading, close))
        reading.shutdown(wait=False)


# Records read for one batch at most, readable or not.
_MAX_READ = 4 * BATCH_SIZE


def _read_batch(records: Iterator[SourceRecord], limits: JournalSettings) -> Checked:
    checked: Checked = []
    readable = 0
    for record in records:
        if record.error is not None:
            checked.append((record, None))
            continue
        outcome = bulk.incoming(record.import_id, record.fields, record.digest, limits)
        checked.append((record, outcome))
        readable += 1
        if readable >= BATCH_SIZE:
            break
        if len(checked) >= _MAX_READ:  # a source of nothing but failures: bounded too
            break
    return checked


async def _attach_media(
    session: AsyncSession,
    user_id: uuid.UUID,
    records: list[SourceRecord],
    outcome: bulk.BatchOutcome,
    attaching: Attaching | None,
    report: ImportReport,
) -> None:
    """Attach the files of a batch's entries (those the entry has from an earlier import are
    left alone); a file that cannot be attached is reported, its entry stays."""
    if attaching is None:
        return
    placed = [r for r in records if r.import_id in outcome.entry_ids]
    entry_ids = [outcome.entry_ids[r.import_id] for r in placed]
    have = await attachments_service.attached_sources(session, user_id, entry_ids)
    for record, entry_id in zip(placed, entry_ids, strict=True):
        for missing in record.missing_media:
            report.fail_attachment(record.import_id, missing, "the file is not in the export")
        for media in record.media:
            if (entry_id, media.source_id) in have:
                continue
            if report.dry_run:
                report.attached += 1
                continue
            try:
                # Opened in a thread: Memos' files are downloaded as they are opened.
                with await anyio.to_thread.run_sync(media.open) as source:
                    _attachment, _blob, new = await attachments_service.upload_attachment(
                        session, attaching, user_id, entry_id, source, media.file_name,
                        source_id=media.source_id, meta=media.meta,
                    )  # fmt: skip
            except DiaristError as exc:
                report.fail_attachment(record.import_id, media.source_id, exc.detail)
                continue
            report.attached += new


# Imports over the API: the upload waits under the data dir for its job.


def upload_folder(data_dir: Path, import_id: uuid.UUID) -> Path:
    """Where an import's upload waits for its job: a folder of its own, owner only."""
    return data_dir / "imports" / str(import_id)


def upload_path(data_dir: Path, import_id: uuid.UUID, file_name: str) -> Path:
    """The upload under its own (cleaned) name: readers see it as the user named it (a Day One
    journal is named after its file, a single note is known by its name)."""
    return upload_folder(data_dir, import_id) / file_name


def clean_file_name(name: str | None) -> str:
    """The uploaded file's name, safe as one path component: its last part, printable, at
    most 255 characters, never `.` or `..`."""
    last = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(c for c in last if c.isprintable()).strip()[:255]
    return printable if printable.strip(".") else "upload"


async def start_import_request(
    session: AsyncSession,
    user_id: uuid.UUID,
    source_format: str,
    upload: BinaryIO | None,
    file_name: str | None,
    *,
    url: str | None,
    token: str | None,
    dry_run: bool,
    data_dir: Path,
    max_waiting: int,
    allow_private: bool = False,
) -> Import:
    """An import asked for over the API: an uploaded export, or (memos) a server's address
    and token, kept beside the job for it alone (0600) and removed with it; at most
    `max_waiting` of the user's at once (each keeps its upload on disk until its job ran)."""
    if await repo.count_waiting(session, user_id) >= max_waiting:
        raise TooManyImports(
            f"You have {max_waiting} imports waiting or running: let one finish first.",
            headers={"Retry-After": "60"},
        )
    if source_format == "memos":
        if upload is not None or not url or not token:
            raise InvalidImportRequest("A Memos import takes the server's url and a token.")
        if not re.match(r"^https?://[^\s/]+", url):
            raise InvalidImportRequest("url must be the server's http:// or https:// address.")
        if not allow_private and not await resolves_to_public(url):
            raise InvalidImportRequest(
                "url names a private, loopback or unknown address (this server allows Memos "
                "servers on the internet only)."
            )
        asked = io.BytesIO(json.dumps({"url": url, "token": token}).encode())
        return await start_import(
            session, user_id, "memos", asked, "memos.json", dry_run=dry_run, data_dir=data_dir
        )
    if upload is None or url is not None or token is not None:
        raise InvalidImportRequest("This format takes a file (and no url or token).")
    return await start_import(
        session, user_id, source_format, upload, file_name, dry_run=dry_run, data_dir=data_dir
    )


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
    target = upload_path(data_dir, row.id, row.file_name)
    try:
        await anyio.to_thread.run_sync(_store, upload, target)
        await defer(session, jobs.RUN_IMPORT, import_id=str(row.id), user_id=str(user_id))
    except BaseException:
        _remove_upload(data_dir, row.id)
        raise
    return row


def _size_of(upload: BinaryIO) -> int:
    upload.seek(0, 2)
    size = upload.tell()
    upload.seek(0)
    return size


def _store(upload: BinaryIO, target: Path) -> None:
    """Copy the upload to `target`, readable by this user alone (folders 0700, file 0600)."""
    target.parent.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    target.parent.parent.chmod(0o700)
    target.parent.mkdir(mode=0o700)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        shutil.copyfileobj(upload, out, 1 << 20)


def _remove_upload(data_dir: Path, import_id: uuid.UUID) -> None:
    shutil.rmtree(upload_folder(data_dir, import_id), ignore_errors=True)


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
    attaching: Attaching | None = None,
) -> str:
    """The job's work: import the kept file, recording progress after each batch and the
    report at the end; the file is removed either way. A job run again after a crash imports
    again (entries written before are found unchanged). Returns the final status."""
    async with database.unit_of_work(user_id) as session:
        row = await repo.get_import(session, user_id, import_id)
        if row is None:  # its account was deleted meanwhile
            _remove_upload(data_dir, import_id)
            return "gone"
        if row.status in ("done", "failed"):
            return row.status
        source_format, dry_run, name = row.format, row.dry_run, row.file_name
        await repo.set_import(session, import_id, {"status": "running", "started_at": repo.now()})
    path = upload_path(data_dir, import_id, name)
    latest = ImportReport(source_format, dry_run)

    async def save(report: ImportReport, **more: Any) -> None:
        nonlocal latest
        latest = report
        async with database.unit_of_work(user_id) as session:
            await repo.set_import(session, import_id, _counts(report) | more)

    try:
        report = await import_file(
            database, user_id, source_format, path, limits, dry_run=dry_run,
            max_file_bytes=MAX_FILE_BYTES, attaching=attaching, on_progress=save,
        )  # fmt: skip
    except DiaristError as exc:  # the batches written before stay counted
        await save(latest, status="failed", error_code=exc.code, error=exc.detail,
                   finished_at=repo.now())  # fmt: skip
        _remove_upload(data_dir, import_id)
        return "failed"
    except Exception:
        _log.exception("import_crashed", import_id=str(import_id))
        ours = "The import stopped on an error of ours."
        await save(latest, status="failed", error_code="internal_error", error=ours,
                   finished_at=repo.now())  # fmt: skip
        _remove_upload(data_dir, import_id)
        return "failed"
    # Cancelled (the worker stops): the upload stays for the job's next attempt.
    await save(report, status="done", finished_at=repo.now())
    _remove_upload(data_dir, import_id)
    return "done"


def _counts(report: ImportReport) -> dict[str, Any]:
    return {
        "read": report.read, "created": report.created, "updated": report.updated,
        "unchanged": report.unchanged, "failed": report.failed, "failures": report.failures,
        "attached": report.attached, "attachments_failed": report.attachments_failed,
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
    old: list[uuid.UUID] = []
    for path in folder.iterdir():
        try:
            import_id = uuid.UUID(path.name)
            written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except (ValueError, FileNotFoundError):  # not ours, or removed meanwhile
            continue
        if written < cutoff:
            old.append(import_id)
    if not old:
        return 0
    waiting = await repo.waiting_import_ids(session, old)
    orphans = [import_id for import_id in old if import_id not in waiting]
    for import_id in orphans:
        _remove_upload(data_dir, import_id)
    return len(orphans)

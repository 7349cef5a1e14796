"""`diarist import FORMAT PATH --user EMAIL`: a journal from another tool into an account;
`diarist export --user EMAIL --format F --output PATH`: an account's journal out again."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import uuid
from collections.abc import AsyncIterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from diarist.accounts import export as account_export
from diarist.accounts import service as accounts_service
from diarist.accounts.personal_data import PersonalData
from diarist.attachments import service as attachments_service
from diarist.attachments.service import Attaching
from diarist.attachments.store import open_store
from diarist.cli.common import DataDirOption, settings_for
from diarist.cli.database import command_database, database_urls
from diarist.config import Settings
from diarist.db.engine import Database
from diarist.errors import DiaristError
from diarist.imports import service as imports_service
from diarist.imports.sources import READERS
from diarist.journal import exports as journal_exports

console = Console()
err_console = Console(stderr=True)

# Every file format, and Memos (a server's address instead of a path).
SourceFormat = StrEnum("SourceFormat", {name: name for name in READERS})  # type: ignore[misc]


@contextlib.asynccontextmanager
async def _as_user(settings: Settings, email: str) -> AsyncIterator[tuple[Database, uuid.UUID]]:
    """The application role's database and the id of the account with `email` (looked up as
    the system role): what a command needs to act as that user under RLS."""
    with database_urls(settings) as urls:
        async with (
            command_database(urls.system, settings) as system,
            system.unit_of_work() as session,
        ):
            personal = PersonalData.from_settings(settings)
            user_id = await accounts_service.user_id_for_email(session, personal, email)
        # An import writes WRITERS batches at once, each on a connection of its own.
        async with command_database(urls.app, settings, imports_service.WRITERS) as database:
            yield database, user_id


def import_journal(
    source_format: Annotated[SourceFormat, typer.Argument(metavar="FORMAT", help="Source format.")],
    path: Annotated[
        str, typer.Argument(help="File, zip or folder to import (memos: the server's address).")
    ],
    user: Annotated[str, typer.Option("--user", help="Email of the account to import into.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and check everything; write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Import a journal: dayone (JSON or zip), dayone-classic, diarist (diarist's own export,
    JSON or zip), joplin (RAW or JEX), jrnl (text), jrnl-json, markdown (a folder), memos (a
    server's address; the access token in DIARIST_MEMOS_TOKEN).

    Importing the same source again updates what changed and duplicates nothing."""
    settings = settings_for(data_dir)
    token = os.environ.get("DIARIST_MEMOS_TOKEN", "")
    if str(source_format) == "memos" and not token:
        err_console.print("[red]error:[/red] set DIARIST_MEMOS_TOKEN to a Memos access token")
        raise typer.Exit(2)
    where = Path(path).resolve()
    if str(source_format) != "memos" and not where.exists():
        err_console.print(f"[red]error:[/red] {path} does not exist")
        raise typer.Exit(2)

    async def main(progress: Progress) -> imports_service.ImportReport:
        task = progress.add_task("importing", total=None)

        async def advance(report: imports_service.ImportReport) -> None:
            progress.update(task, completed=report.read,
                            description=f"{report.read} entries read")  # fmt: skip

        attaching = Attaching.of(settings.attachments, settings.data_dir)
        async with _as_user(settings, user) as (database, user_id):
            if str(source_format) == "memos":
                return await imports_service.import_memos(
                    database, user_id, path, token, settings.journal, dry_run=dry_run,
                    attaching=attaching, on_progress=advance,
                )  # fmt: skip
            return await imports_service.import_file(
                database, user_id, str(source_format), where,
                settings.journal, dry_run=dry_run,
                max_file_bytes=imports_service.MAX_FILE_BYTES, attaching=attaching,
                on_progress=advance,
            )  # fmt: skip

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err_console, transient=True) as progress:
            report = asyncio.run(main(progress))
    except DiaristError as exc:
        err_console.print(f"[red]error:[/red] {exc.detail} ({exc.code})")
        raise typer.Exit(2) from None
    if as_json:
        console.print_json(json.dumps(report.as_dict()))
    else:
        _print(report)
    if report.failed:
        raise typer.Exit(1)


def _print(report: imports_service.ImportReport) -> None:
    verb = "would be" if report.dry_run else "were"
    console.print(
        f"{report.read} entries read: {report.created} {verb} created, {report.updated} "
        f"updated, {report.unchanged} unchanged, {report.failed} failed."
    )
    if report.attached or report.attachments_failed:
        console.print(
            f"{report.attached} files {'would be ' if report.dry_run else ''}attached, "
            f"{report.attachments_failed} could not be."
        )
    for failure in report.failures:
        console.print(f"  [red]failed[/red] {failure['id']}: {failure['reason']}")
    left = report.failed + report.attachments_failed - len(report.failures)
    if left > 0:
        console.print(f"  ... and {left} more")


class ExportFormat(StrEnum):
    dayone = "dayone"
    markdown = "markdown"
    json = "json"
    zip = "zip"


def export_journal(
    user: Annotated[str, typer.Option("--user", help="Email of the account to export.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    export_format: Annotated[
        ExportFormat,
        typer.Option("--format", help="dayone (zip), markdown (zip), json, zip (json + files)."),
    ] = ExportFormat.dayone,
    data_dir: DataDirOption = None,
) -> None:
    """Export an account's journal: a Day One export (zip), Markdown notes (zip), or diarist's
    JSON document of everything the account owns (zip: with the attachments' files; what
    `diarist import diarist` reads back)."""
    settings = settings_for(data_dir)

    async def main() -> int:
        written = 0
        async with _as_user(settings, user) as (database, user_id):
            store = open_store(settings.attachments, settings.data_dir)
            personal = PersonalData.from_settings(settings)
            if export_format is ExportFormat.json:
                chunks = account_export.json_chunks(database, user_id, personal)
            elif export_format is ExportFormat.zip:
                files = functools.partial(attachments_service.stored_files, store=store)
                chunks = account_export.zip_chunks(database, user_id, personal, files)
            else:
                chunks = journal_exports.zip_chunks(
                    database, user_id, export_format.value, store=store
                )
            with output.open("wb") as out:
                async for chunk in chunks:
                    written += out.write(chunk)
        return written

    try:
        written = asyncio.run(main())
    except DiaristError as exc:
        err_console.print(f"[red]error:[/red] {exc.detail} ({exc.code})")
        raise typer.Exit(2) from None
    console.print(f"wrote {output} ({written} bytes)")

"""`diarist backup create|list|verify|restore|prune` (docs/backups.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from diarist.cli.common import DataDirOption, settings_for
from diarist.cli.database import database_urls, superuser_urls
from diarist.config import Settings
from diarist.db.backups import (
    BackupError,
    create_backup,
    list_backups,
    prune_backups,
    restore_backup,
    restore_to_data_dir,
    verify_backup,
)
from diarist.db.embedded import SUPERUSER, EmbeddedPostgres, embedded_cluster
from diarist.db.pitr import archive_dir, base_backup_now, enable_archiving, restore_to_time

backup_cli = typer.Typer(
    help="Backups: make, list, verify, restore and prune.", no_args_is_help=True
)
console = Console()
err_console = Console(stderr=True)
DumpArgument = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A .dump file.")]


@contextmanager
def _progress(title: str) -> Iterator[Callable[[str], None]]:
    """A spinner that shows the current step; errors end the command with exit code 1."""
    with console.status(title) as status:

        def step(message: str) -> None:
            status.update(f"{title}: {message}")

        try:
            yield step
        except (BackupError, ValueError) as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None


@backup_cli.command("create")
def create(data_dir: DataDirOption = None) -> None:
    """Dump the database (pg_dump -Fc) with a manifest of every table's rows and checksum."""
    settings = settings_for(data_dir)
    with _progress("backup") as step, database_urls(settings) as urls:
        dump = create_backup(settings, urls, step)
    console.print(f"made {dump}")


@backup_cli.command("list")
def list_(data_dir: DataDirOption = None) -> None:
    """The backups in the backup dir, newest first."""
    table = Table("made", "size", "rows", "schema")
    table.add_column("file", no_wrap=True)
    for path, manifest in list_backups(settings_for(data_dir)):
        rows = sum(figures.rows for figures in manifest.tables.values())
        size = f"{manifest.size_bytes / 2**20:.1f} MiB"
        table.add_row(manifest.created_at[:19], size, str(rows),
                      ", ".join(manifest.schema_revision), path.name)  # fmt: skip
    console.print(table)


@backup_cli.command("verify")
def verify(dump: DumpArgument, data_dir: DataDirOption = None) -> None:
    """Restore into a scratch database and compare every table with the manifest."""
    settings = settings_for(data_dir)
    with _progress("verify") as step, superuser_urls(settings) as (superuser, _urls):
        result = verify_backup(settings, superuser, dump, step)
    if not result.ok:
        for problem in result.problems:
            err_console.print(f"[red]✗[/red] {problem}")
        raise typer.Exit(1)
    console.print(f"[green]✓[/green] {result.tables} tables, {result.rows} rows as in the manifest")


@backup_cli.command("restore")
def restore(
    dump: Annotated[
        Path | None,
        typer.Argument(exists=True, dir_okay=False, help="A .dump file (not with --to-time)."),
    ] = None,
    database: Annotated[
        str | None, typer.Option("--to-database", help="A new database on this server.")
    ] = None,
    target_dir: Annotated[
        Path | None, typer.Option("--to-data-dir", help="A new data dir (embedded server).")
    ] = None,
    to_time: Annotated[
        datetime | None,
        typer.Option(
            "--to-time",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"],
            help="Point-in-time recovery to this moment (with its offset) from the newest base"
            " backup before it and the WAL archive; needs --to-data-dir.",
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Restore into a new database, or a new data dir's embedded server — never over an
    existing one — checked against the manifest; or, with --to-time, the database as it was at
    that moment (point-in-time recovery) into a new data dir. Then point DIARIST_DB__NAME
    (embedded) or DIARIST_DATABASE_URL at the database, or `diarist serve --data-dir` at the
    data dir."""
    settings = settings_for(data_dir)
    if to_time is not None:
        if target_dir is None or dump is not None or database is not None:
            err_console.print("[red]error:[/red] --to-time takes --to-data-dir and no dump")
            raise typer.Exit(2)
        with _progress("restore") as step:
            base = restore_to_time(settings, to_time, target_dir.expanduser().resolve(), step)
        console.print(f"restored {to_time.isoformat()} into {target_dir} (base {base.path.name})")
        return
    if dump is None or (database is None) == (target_dir is None):
        err_console.print("[red]error:[/red] give a dump and --to-database or --to-data-dir")
        raise typer.Exit(2)
    with _progress("restore") as step:
        if target_dir is not None:
            restore_to_data_dir(settings, dump, target_dir.expanduser().resolve(), step)
        else:
            assert database is not None
            with superuser_urls(settings) as (superuser, _urls):
                restore_backup(settings, superuser, dump, database, step)
    console.print(f"restored into {target_dir or database}")


@backup_cli.command("prune")
def prune(data_dir: DataDirOption = None) -> None:
    """Delete the backups that retention lets go (7 daily, 4 weekly, 12 monthly by default)."""
    settings = settings_for(data_dir)
    with _progress("prune") as step:
        removed = prune_backups(settings, step)
    console.print(f"removed {len(removed)} backup(s)")


pitr_cli = typer.Typer(
    help="Point-in-time recovery on the embedded server: WAL archiving and base backups.",
    no_args_is_help=True,
)
backup_cli.add_typer(pitr_cli, name="pitr")


def _embedded(data_dir: Path | None) -> tuple[Settings, EmbeddedPostgres]:
    """The settings and the embedded server of the data dir (an external one is refused)."""
    settings = settings_for(data_dir)
    if not settings.embedded:
        err_console.print(
            "[red]error:[/red] on an external server, WAL archiving is the server's operator's"
            " (archive_command, pg_basebackup); see docs/backups.md"
        )
        raise typer.Exit(2)
    return settings, EmbeddedPostgres(settings.data_dir)


@pitr_cli.command("enable")
def pitr_enable(data_dir: DataDirOption = None) -> None:
    """Archive the embedded server's WAL (archive_mode with basic_archive) from its next start;
    then take a base backup (`diarist backup pitr base`)."""
    settings, server = _embedded(data_dir)
    archive = archive_dir(settings)
    with _progress("pitr") as step, embedded_cluster(settings.data_dir) as cluster:
        step(f"archiving into {archive}")
        restart = enable_archiving(server, cluster.url(SUPERUSER, "postgres"), archive)
    if restart:
        console.print(
            f"WAL archiving into {archive} begins at the server's next start: restart"
            " `diarist serve` if it runs, then take a base backup (`diarist backup pitr base`)"
        )
    else:
        console.print(f"WAL archiving into {archive} is on")


@pitr_cli.command("base")
def pitr_base(data_dir: DataDirOption = None) -> None:
    """Take a base backup now (pg_basebackup), then keep the newest DIARIST_BACKUPS__KEEP_BASE
    and the archived WAL they need."""
    settings, _server = _embedded(data_dir)
    with _progress("base backup") as step:
        taken = base_backup_now(settings, step)
    console.print(f"made {taken.path}")

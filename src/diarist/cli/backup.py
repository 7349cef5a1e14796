"""`diarist backup create|list|verify|restore|prune` (docs/backups.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from diarist.cli.common import DataDirOption, settings_for
from diarist.cli.database import database_urls, superuser_urls
from diarist.db.backups import (
    BackupError,
    create_backup,
    list_backups,
    prune_backups,
    restore_backup,
    restore_to_data_dir,
    verify_backup,
)

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
    dump: DumpArgument,
    database: Annotated[
        str | None, typer.Option("--to-database", help="A new database on this server.")
    ] = None,
    target_dir: Annotated[
        Path | None, typer.Option("--to-data-dir", help="A new data dir (embedded server).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Restore into a new database, or a new data dir's embedded server — never over an
    existing one — checked against the manifest. Then point DIARIST_DB__NAME (embedded) or
    DIARIST_DATABASE_URL at the database, or `diarist serve --data-dir` at the data dir."""
    if (database is None) == (target_dir is None):
        err_console.print("[red]error:[/red] give --to-database or --to-data-dir")
        raise typer.Exit(2)
    settings = settings_for(data_dir)
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

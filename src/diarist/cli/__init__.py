"""The `diarist` command line: thin commands over the same services as the API."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from diarist import __version__
from diarist.cli.analysis import analysis_cli
from diarist.cli.audit import audit_cli
from diarist.cli.backup import backup_cli
from diarist.cli.common import DataDirOption, settings_for
from diarist.cli.database import database_urls
from diarist.cli.imports import export_journal, import_journal
from diarist.cli.users import user_cli
from diarist.cli.vault import vault_cli
from diarist.db import migrate
from diarist.db.embedded import DataDirLocked
from diarist.logging import configure_logging

cli = typer.Typer(help="diarist: a self-hostable journaling platform.", no_args_is_help=True)
db_cli = typer.Typer(help="Database migrations.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(user_cli, name="user")
cli.add_typer(analysis_cli, name="analysis")
cli.add_typer(backup_cli, name="backup")
cli.add_typer(vault_cli, name="vault")
cli.add_typer(audit_cli, name="audit")
cli.command("import")(import_journal)
cli.command("export")(export_journal)
console = Console()
err_console = Console(stderr=True)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (DIARIST_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (DIARIST_PORT).")] = None,
    data_dir: DataDirOption = None,
    workers: Annotated[int | None, typer.Option(min=1, max=64, help="API processes.")] = None,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Run no job worker.")] = False,
) -> None:
    """Run the service: embedded PostgreSQL (unless a URL is set), API workers and a job worker."""
    from diarist.supervisor import ServeOptions
    from diarist.supervisor import serve as run_serve

    settings = settings_for(data_dir, host=host, port=port, workers=workers)
    options = ServeOptions(workers=settings.workers, with_worker=not no_worker)
    try:
        code = run_serve(settings, options)
    except DataDirLocked as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    raise typer.Exit(code)


@cli.command()
def worker(data_dir: DataDirOption = None) -> None:
    """Run a job worker against DIARIST_DATABASE_URL (for separate worker hosts)."""
    from diarist.worker import run_worker

    settings = settings_for(data_dir)
    configure_logging(settings.log)
    if settings.database_url is None:
        err_console.print("[red]error:[/red] DIARIST_DATABASE_URL is required for `diarist worker`")
        raise typer.Exit(2)
    asyncio.run(run_worker(settings))


@cli.command()
def embedder(
    data_dir: DataDirOption = None,
    host: Annotated[str | None, typer.Option(help="Bind address with --port.")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Serve on TCP instead of the socket.")
    ] = None,
) -> None:
    """Serve query embeddings of the local model to API processes (started by `serve`)."""
    from diarist.analysis.embedder_server import run_embedder

    settings = settings_for(data_dir)
    configure_logging(settings.log)
    try:
        run_embedder(settings, host=host, port=port)
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


@cli.command()
def version() -> None:
    """Print the installed version."""
    console.print(__version__)


@db_cli.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument()] = "head", data_dir: DataDirOption = None
) -> None:
    """Apply migrations up to REVISION (default: head)."""
    settings = settings_for(data_dir)
    with database_urls(settings) as urls:
        migrate.upgrade(urls.owner, revision, settings)
    console.print(f"upgraded to {revision}")


@db_cli.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument()], data_dir: DataDirOption = None
) -> None:
    """Revert migrations down to REVISION (`base` removes every table diarist made)."""
    settings = settings_for(data_dir)
    with database_urls(settings) as urls:
        migrate.downgrade(urls.owner, revision, settings)
    console.print(f"downgraded to {revision}")


@db_cli.command("current")
def db_current(data_dir: DataDirOption = None) -> None:
    """Show the revision the database is at, and whether it is the head."""
    with database_urls(settings_for(data_dir)) as urls:
        current = migrate.current_revisions(urls.owner)
    heads = migrate.head_revisions()
    label = ", ".join(sorted(current)) or "(none)"
    console.print(
        f"{label} {'(head)' if current == heads else '(pending: ' + ', '.join(sorted(heads)) + ')'}"
    )


@db_cli.command("history")
def db_history() -> None:
    """List the packaged revisions, newest first."""
    table = Table("revision", "down", "message")
    for revision, down, message in migrate.history():
        table.add_row(revision, down or "", message.splitlines()[0] if message else "")
    console.print(table)


def main() -> None:
    cli()

"""`diarist analysis ...`: the pipeline's state, and queueing entries in bulk."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated

import psycopg
import typer
from psycopg import sql
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from diarist.analysis import service as analysis_service
from diarist.cli.common import DataDirOption, settings_for
from diarist.cli.database import database_urls, system_database
from diarist.db.provision import libpq_url
from diarist.models.analysis import remote_model_name

analysis_cli = typer.Typer(help="The analysis pipeline.", no_args_is_help=True)
console = Console()


@analysis_cli.command("status")
def status(data_dir: DataDirOption = None) -> None:
    """Entries by analysis status, and the queue's jobs by state."""
    settings = settings_for(data_dir)

    async def main() -> tuple[dict[str, int], dict[str, int]]:
        async with system_database(settings) as database, database.unit_of_work() as session:
            return (
                await analysis_service.status_counts(session),
                await analysis_service.queue_counts(session),
            )

    entries, jobs = asyncio.run(main())
    table = Table("entries", "count")
    for name in ("pending", "processing", "completed", "failed"):
        table.add_row(name, str(entries.get(name, 0)))
    console.print(table)
    queue = Table("analysis jobs", "count")
    for name, count in sorted(jobs.items()):
        queue.add_row(name, str(count))
    console.print(queue)


@analysis_cli.command("backfill")
def backfill(
    data_dir: DataDirOption = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Also entries analysed already (e.g. after an upgrade).")
    ] = False,
) -> None:
    """Queue analysis for entries that have none (or, with --all, for every entry)."""
    settings = settings_for(data_dir)

    async def main() -> int:
        async with system_database(settings) as database:
            async with database.unit_of_work() as session:
                targets = await analysis_service.backfill_targets(session, everything)
            with Progress(console=console) as progress:
                task = progress.add_task("queueing", total=len(targets))
                for start in range(0, len(targets), 500):
                    batch = targets[start : start + 500]
                    async with database.unit_of_work() as session:
                        await analysis_service.queue_many(session, batch)
                    progress.advance(task, len(batch))
            return len(targets)

    console.print(f"queued {asyncio.run(main())} entries")


@analysis_cli.command("index-model")
def index_model(data_dir: DataDirOption = None) -> None:
    """Create the HNSW index of the configured remote embedding model (once, before or after
    switching to it; built concurrently, the service keeps running)."""
    settings = settings_for(data_dir)
    model = settings.analysis.openai.embedding_model
    if not model:
        console.print("[red]error:[/red] DIARIST_ANALYSIS__OPENAI__EMBEDDING_MODEL is not set")
        raise typer.Exit(2)
    name = remote_model_name(model)
    index = f"ix_entry_embeddings_hnsw_{hashlib.sha256(name.encode()).hexdigest()[:10]}"
    statement = sql.SQL(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON entry_embeddings "
        "USING hnsw ((embedding::vector({})) vector_cosine_ops) WHERE model = {}"
    ).format(
        sql.Identifier(index),
        sql.Literal(settings.analysis.openai.embedding_dimensions),
        sql.Literal(name),
    )
    with (
        database_urls(settings) as urls,
        psycopg.connect(libpq_url(urls.owner), autocommit=True) as conn,
    ):
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute(statement)
    console.print(f"index {index} ready for {name}")

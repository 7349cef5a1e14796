"""The job loop end to end: enqueued in the caller's transaction, run by a real worker."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.jobs import defer
from diarist.db.provision import DatabaseUrls, libpq_url
from diarist.ops.jobs import PING
from diarist.worker import run_worker
from tests.conftest import make_settings


def _jobs(urls: DatabaseUrls) -> list[tuple[str, str, dict[str, str]]]:
    with psycopg.connect(libpq_url(urls.owner)) as conn:
        rows = conn.execute(
            "SELECT task_name, status::text, args FROM procrastinate_jobs "
            "WHERE task_name = 'ops:ping' ORDER BY id"
        )
        return [(row[0], row[1], row[2]) for row in rows]


async def _defer_then_fail(database: Database) -> None:
    async with database.unit_of_work() as session:
        await defer(session, PING, token="rolled-back")
        raise RuntimeError("the caller's transaction fails after deferring")


async def test_job_deferred_in_committed_transaction_runs(
    fresh_db: DatabaseUrls, tmp_path: Path
) -> None:
    settings = make_settings(fresh_db, tmp_path)
    database = Database(
        create_engine(fresh_db.app, settings.db, PoolPlan(2, 0), application_name="t")
    )
    try:
        async with database.unit_of_work() as session:
            job_id = await defer(session, PING, token="committed")
        with pytest.raises(RuntimeError, match="after deferring"):
            await _defer_then_fail(database)
    finally:
        await database.dispose()

    assert _jobs(fresh_db) == [("ops:ping", "todo", {"token": "committed"})]
    await run_worker(settings, wait=False)
    assert _jobs(fresh_db) == [("ops:ping", "succeeded", {"token": "committed"})]
    assert job_id > 0

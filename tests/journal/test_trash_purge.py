"""The hourly purge: trash older than the retention goes, younger trash and live entries stay."""

from __future__ import annotations

from pathlib import Path

import psycopg

from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.jobs import defer
from diarist.db.provision import DatabaseUrls, libpq_url
from diarist.journal import service as entries_service
from diarist.journal.jobs import PURGE_TRASH
from diarist.journal.schemas import EntryCreate
from diarist.worker import app as worker_app
from diarist.worker import run_worker
from tests.conftest import make_settings
from tests.factories.journal import user_with_entries


async def test_purge_task_removes_only_expired_trash(
    fresh_db: DatabaseUrls, tmp_path: Path
) -> None:
    settings = make_settings(fresh_db, tmp_path)
    titles = ("live", "fresh trash", "old trash")
    entries = [EntryCreate(raw_data={"text": t}, title=t, tags=["t"]) for t in titles]
    user_id, entry_ids = await user_with_entries(fresh_db, settings, entries)
    ids = dict(zip(titles, entry_ids, strict=True))
    database = Database(
        create_engine(fresh_db.app, settings.db, PoolPlan(2, 0), application_name="t")
    )
    try:
        async with database.unit_of_work(user_id=user_id) as session:
            for title in titles[1:]:
                await entries_service.trash_entry(session, user_id, ids[title])
        with psycopg.connect(libpq_url(fresh_db.owner), autocommit=True) as owner:
            owner.execute(
                "UPDATE entries SET deleted_at = now() - interval '31 days' WHERE id = %s",
                (ids["old trash"],),
            )
        async with database.unit_of_work() as session:
            await defer(session, PURGE_TRASH, timestamp=0)
    finally:
        await database.dispose()
    assert "journal:purge_trash" in worker_app.tasks

    for _ in range(3):  # a job queued by the last ones (a statistics refresh) needs a next pass
        await run_worker(settings, wait=False)
        with psycopg.connect(libpq_url(fresh_db.owner)) as owner:
            waiting = owner.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'")
            if waiting.fetchone() == (0,):
                break

    with psycopg.connect(libpq_url(fresh_db.owner)) as owner:
        left = {row[0] for row in owner.execute("SELECT title FROM entries")}
        revisions = owner.execute("SELECT count(*) FROM entry_tags").fetchone()
        statuses = {row[0] for row in owner.execute("SELECT status::text FROM procrastinate_jobs")}
    assert left == {"live", "fresh trash"}
    assert revisions == (2,)
    assert statuses == {"succeeded"}

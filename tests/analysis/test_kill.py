"""kill -9 of a worker in the middle of a batch: after recovery every entry is analysed once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import procrastinate
import psycopg

from diarist.analysis.service import revive_stalled_jobs
from diarist.config import AnalysisSettings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls, libpq_url
from diarist.journal.schemas import EntryCreate
from diarist.worker import app as worker_app
from diarist.worker import run_worker
from tests.conftest import make_settings
from tests.factories.journal import user_with_entries

ENTRIES = 20
# Long entries (about 1,500 words, several embedding windows): each job runs for a good part
# of a second, so the kill reliably lands while jobs are `doing`.
REPEAT = 25
TEXT = (
    "Long day at the office, then a walk along the canal where the light was soft and gold. "
    "I kept thinking about the conversation with my sister and whether I had been unfair. "
)


def _states(urls: DatabaseUrls) -> dict[str, int]:
    with psycopg.connect(libpq_url(urls.owner)) as conn:
        rows = conn.execute(
            "SELECT status::text, count(*) FROM procrastinate_jobs "
            "WHERE task_name = 'analysis:analyze_entry' GROUP BY 1"
        )
        return {row[0]: row[1] for row in rows}


async def test_a_killed_worker_loses_nothing(fresh_db: DatabaseUrls, tmp_path: Path) -> None:
    settings = make_settings(fresh_db, tmp_path)
    entries = [EntryCreate(raw_data={"text": f"{n}. {TEXT * REPEAT}"}) for n in range(ENTRIES)]
    await user_with_entries(fresh_db, settings, entries)

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DIARIST_")},
        "DIARIST_DATABASE_URL": fresh_db.app.render_as_string(hide_password=False),
        "DIARIST_DB__SYSTEM_URL": fresh_db.system.render_as_string(hide_password=False),
        "DIARIST_SECRET_KEY": "k" * 48,
        "DIARIST_DATA_DIR": str(tmp_path),
        "DIARIST_WORKER__CONCURRENCY": "2",
        "DIARIST_WORKER__QUEUES": '["analysis"]',
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "diarist", "worker",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            states = _states(fresh_db)
            if states.get("succeeded", 0) >= 2 and states.get("doing", 0) >= 1:
                break
            await asyncio.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        await asyncio.wait_for(worker.wait(), timeout=30)
    finally:
        if worker.returncode is None:
            worker.kill()
    states = _states(fresh_db)
    assert states.get("doing", 0) >= 1, f"the worker died mid-batch: {states}"
    assert states.get("succeeded", 0) < ENTRIES

    await asyncio.sleep(1.5)  # its heartbeat is now older than the threshold below
    connector = procrastinate.PsycopgConnector(conninfo=libpq_url(fresh_db.app))
    system = Database(
        create_engine(fresh_db.system, settings.db, PoolPlan(1, 0), application_name="t")
    )
    try:
        with worker_app.replace_connector(connector):
            async with worker_app.open_async(), system.unit_of_work() as session:
                revived = await revive_stalled_jobs(
                    worker_app, session, AnalysisSettings(stalled_after_s=1.0)
                )
    finally:
        await system.dispose()
    assert revived >= 1
    await run_worker(settings, wait=False)

    assert _states(fresh_db) == {"succeeded": ENTRIES}
    with psycopg.connect(libpq_url(fresh_db.owner)) as conn:
        statuses = conn.execute(
            "SELECT processing_status, count(*) FROM entries GROUP BY 1"
        ).fetchall()
        results = conn.execute(
            "SELECT (SELECT count(*) FROM processed_content), "
            "(SELECT count(DISTINCT (entry_id, task_type)) FROM processed_content), "
            "(SELECT count(*) FROM entry_embeddings)"
        ).fetchone()
    assert statuses == [("completed", ENTRIES)]
    assert results == (3 * ENTRIES, 3 * ENTRIES, ENTRIES)

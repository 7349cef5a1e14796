"""`diarist analysis status` and `backfill` against a database of their own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from diarist.cli import cli
from diarist.config import get_settings
from diarist.db.provision import DatabaseUrls, libpq_url
from diarist.journal.schemas import EntryCreate
from tests.conftest import make_settings
from tests.factories.journal import user_with_entries


@pytest.fixture
def env(fresh_db: DatabaseUrls, tmp_path: Path) -> Iterator[dict[str, str]]:
    values = {
        "DIARIST_DATABASE_URL": fresh_db.app.render_as_string(hide_password=False),
        "DIARIST_DB__SYSTEM_URL": fresh_db.system.render_as_string(hide_password=False),
        "DIARIST_SECRET_KEY": "k" * 48,
        "DIARIST_DATA_DIR": str(tmp_path),
        "DIARIST_LOG__FORMAT": "console",
        "COLUMNS": "200",
    }
    get_settings.cache_clear()
    yield values
    get_settings.cache_clear()


def test_status_and_backfill(env: dict[str, str], fresh_db: DatabaseUrls, tmp_path: Path) -> None:
    texts = [EntryCreate(raw_data={"text": f"entry {n}"}) for n in range(3)]
    asyncio.run(user_with_entries(fresh_db, make_settings(fresh_db, tmp_path), texts))
    runner = CliRunner()
    status = runner.invoke(cli, ["analysis", "status"], env=env)
    assert status.exit_code == 0, status.output
    assert "pending" in status.output
    assert "3" in status.output

    queued = runner.invoke(cli, ["analysis", "backfill"], env=env)
    assert "queued 0 entries" in queued.output, "entries with a job waiting are left alone"
    with psycopg.connect(libpq_url(fresh_db.owner), autocommit=True) as conn:
        conn.execute("DELETE FROM procrastinate_jobs")  # as if the jobs were lost
    backfilled = runner.invoke(cli, ["analysis", "backfill"], env=env)
    assert backfilled.exit_code == 0, backfilled.output
    assert "queued 3 entries" in backfilled.output
    with psycopg.connect(libpq_url(fresh_db.owner)) as conn:
        jobs = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'analysis:analyze_entry'"
        ).fetchone()
    assert jobs == (3,)

"""`diarist analysis status` and `backfill` against a database of their own."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from diarist.accounts import service as accounts_service
from diarist.accounts.mailer import ConsoleMailer
from diarist.accounts.secrets import Keyring
from diarist.accounts.service import AccountsContext, Client
from diarist.cli import cli
from diarist.config import get_settings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls, libpq_url
from diarist.journal import service as entries_service
from diarist.journal.schemas import EntryCreate
from diarist.kit.clock import SystemClock
from tests.conftest import make_settings
from tests.factories.accounts import PASSWORD, unique_email


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


async def _three_pending_entries(fresh_db: DatabaseUrls, tmp_path: Path) -> None:
    settings = make_settings(fresh_db, tmp_path)
    ctx = AccountsContext(
        settings, Keyring(SecretStr("k" * 48)), ConsoleMailer("x", io.StringIO()), SystemClock()
    )
    database = Database(
        create_engine(fresh_db.app, settings.db, PoolPlan(1, 0), application_name="t")
    )
    try:
        async with database.unit_of_work() as session:
            user, _ = await accounts_service.register(
                session,
                ctx,
                email=unique_email(),
                name="C",
                password=PASSWORD,
                client=Client(None, None),
            )
        async with database.unit_of_work(user_id=user.id) as session:
            for n in range(3):
                await entries_service.create_entry(
                    session, user.id, EntryCreate(raw_data={"text": f"entry {n}"}), settings.journal
                )
    finally:
        await database.dispose()


def test_status_and_backfill(env: dict[str, str], fresh_db: DatabaseUrls, tmp_path: Path) -> None:
    asyncio.run(_three_pending_entries(fresh_db, tmp_path))
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

"""The analysis pipeline end to end: real commits, the real queue, a real worker, real models."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from diarist.accounts.service import AccountsContext
from diarist.analysis import local
from diarist.analysis import service as analysis_service
from diarist.analysis.local import LocalAnalyzer, get_local_analyzer
from diarist.analysis.results import Analysis
from diarist.analysis.service import requeue_stuck
from diarist.config import AnalysisSettings, Settings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls, libpq_url
from diarist.worker import run_worker
from tests.analysis.test_races import EditingAnalyzer
from tests.conftest import make_settings
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.journal import create_entry, markdown
from tests.fixtures.live import live_app_client


@pytest.fixture
def settings(fresh_db: DatabaseUrls, tmp_path: Path) -> Settings:
    settings = make_settings(fresh_db, tmp_path)
    analysis = AnalysisSettings(max_attempts=2, retry_base_s=0.05)
    return settings.model_copy(update={"analysis": analysis})


@pytest.fixture
async def client(
    settings: Settings, fresh_db: DatabaseUrls, accounts_context: AccountsContext
) -> AsyncIterator[httpx.AsyncClient]:
    async with live_app_client(settings, fresh_db, accounts_context, PoolPlan(5, 5)) as http:
        yield http


@pytest.fixture
async def live_database(settings: Settings, fresh_db: DatabaseUrls) -> AsyncIterator[Database]:
    database = Database(
        create_engine(fresh_db.app, settings.db, PoolPlan(2, 0), application_name="t")
    )
    yield database
    await database.dispose()


async def _ids(
    client: httpx.AsyncClient, me: Account, entry: dict[str, Any]
) -> tuple[uuid.UUID, uuid.UUID]:
    user = await user_id_of(client, me)
    return user, uuid.UUID(entry["id"])


def _sql(urls: DatabaseUrls, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq_url(urls.owner), autocommit=True) as conn:
        cursor = conn.execute(query, args)
        return cursor.fetchall() if cursor.description else []


def _jobs(urls: DatabaseUrls) -> list[tuple[Any, ...]]:
    return _sql(
        urls,
        "SELECT status::text, args->>'entry_id' FROM procrastinate_jobs "
        "WHERE task_name = 'analysis:analyze_entry' ORDER BY id",
    )


async def _entry(client: httpx.AsyncClient, me: Account, entry_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"/api/v1/entries/{entry_id}", headers=me.auth)).json()
    return body


async def test_entries_are_analysed_once_per_text(
    client: httpx.AsyncClient, settings: Settings, fresh_db: DatabaseUrls
) -> None:
    me = await signed_up(client)
    entry = await create_entry(
        client, me.auth, "We laughed all evening. A wonderful day with friends."
    )
    assert entry["analysis"] == {
        "status": "pending", "error": None, "sentiment": None, "emotions": None,
        "keywords": None, "reflection": None, "topics": [],
    }  # fmt: skip
    assert _jobs(fresh_db) == [("todo", entry["id"])]

    await run_worker(settings, wait=False)
    done = await _entry(client, me, entry["id"])
    assert done["analysis"]["status"] == "completed"
    assert done["analysis"]["sentiment"]["label"] == "positive"
    assert max(done["analysis"]["emotions"], key=done["analysis"]["emotions"].get) == "joy"
    assert done["analysis"]["keywords"]
    assert (done["version"], done["updated_at"]) == (entry["version"], entry["updated_at"]), (
        "analysis never bumps the user's version"
    )
    counts = (
        "SELECT (SELECT count(*) FROM processed_content), (SELECT count(*) FROM entry_embeddings)"
    )
    assert _sql(fresh_db, counts) == [(3, 1)]
    dims = _sql(fresh_db, "SELECT dimensions, vector_dims(embedding) FROM entry_embeddings")
    assert dims == [(384, 384)]

    # Not the text: no new analysis.
    await client.patch(f"/api/v1/entries/{entry['id']}", json={"mood_rating": 9}, headers=me.auth)
    assert len(_jobs(fresh_db)) == 1
    assert (await _entry(client, me, entry["id"]))["analysis"]["status"] == "completed"

    # The text: analysed again, results replaced, not added.
    await client.patch(
        f"/api/v1/entries/{entry['id']}",
        json={"raw_data": markdown("An awful, lonely, miserable evening. I cried.")},
        headers=me.auth,
    )
    assert (await _entry(client, me, entry["id"]))["analysis"]["status"] == "pending"
    await run_worker(settings, wait=False)
    again = await _entry(client, me, entry["id"])
    assert again["analysis"]["sentiment"]["label"] == "negative"
    assert _sql(fresh_db, counts) == [(3, 1)]

    # Forced twice for the same text: still one row per task.
    for _ in range(2):
        forced = await client.post(f"/api/v1/entries/{entry['id']}/analyze", headers=me.auth)
        assert forced.status_code == 202
    # Jobs of one entry share a lock and run one after another: drain them all.
    while any(status == "todo" for status, _ in _jobs(fresh_db)):
        await run_worker(settings, wait=False)
    assert _sql(fresh_db, counts) == [(3, 1)]
    assert {status for status, _ in _jobs(fresh_db)} == {"succeeded"}


class _Broken(LocalAnalyzer):
    def __init__(self) -> None:
        pass

    def analyze(self, text: str, language: str = "en") -> Analysis:
        raise RuntimeError("model crashed")


@pytest.fixture
def broken_models() -> Iterator[LocalAnalyzer]:
    """The process's analyzer replaced by one that crashes; yields the real one."""
    real = get_local_analyzer(1)
    local._analyzers[1] = _Broken()
    try:
        yield real
    finally:
        local._analyzers[1] = real


async def test_failures_are_retried_then_recorded_and_recoverable(
    client: httpx.AsyncClient,
    settings: Settings,
    fresh_db: DatabaseUrls,
    broken_models: LocalAnalyzer,
) -> None:
    me = await signed_up(client)
    entry = await create_entry(client, me.auth, "A plain day.")
    for _ in range(40):
        await run_worker(settings, wait=False)
        if (await _entry(client, me, entry["id"]))["analysis"]["status"] == "failed":
            break
        await asyncio.sleep(0.05)
    failed = (await _entry(client, me, entry["id"]))["analysis"]
    assert failed["status"] == "failed"
    assert failed["error"] == "RuntimeError: model crashed"
    assert _jobs(fresh_db)[0][0] == "failed"
    assert _sql(fresh_db, "SELECT analysis_attempts FROM entries") == [(2,)]

    local._analyzers[1] = broken_models  # the model works again
    await client.post(f"/api/v1/entries/{entry['id']}/analyze", headers=me.auth)
    await run_worker(settings, wait=False)
    recovered = (await _entry(client, me, entry["id"]))["analysis"]
    assert (recovered["status"], recovered["error"]) == ("completed", None)


async def test_sweeper_requeues_entries_without_a_job(
    client: httpx.AsyncClient, settings: Settings, fresh_db: DatabaseUrls
) -> None:
    me = await signed_up(client)
    entry = await create_entry(client, me.auth, "Lost job.")
    # As if the job were lost: no job, and pending for longer than the threshold.
    _sql(fresh_db, "DELETE FROM procrastinate_jobs")
    _sql(fresh_db, "UPDATE entries SET analysis_requested_at = now() - interval '1 hour'")
    system = Database(
        create_engine(fresh_db.system, settings.db, PoolPlan(1, 0), application_name="t")
    )
    try:
        async with system.unit_of_work() as session:
            assert await requeue_stuck(session, settings.analysis) == 1
        async with system.unit_of_work() as session:
            assert await requeue_stuck(session, settings.analysis) == 0, "a job exists now"
    finally:
        await system.dispose()
    await run_worker(settings, wait=False)
    assert (await _entry(client, me, entry["id"]))["analysis"]["status"] == "completed"


async def test_results_of_an_outdated_text_are_not_kept(
    client: httpx.AsyncClient, live_database: Database, fresh_db: DatabaseUrls
) -> None:
    me = await signed_up(client)
    entry = await create_entry(client, me.auth, "A wonderful, happy day.")
    user_id, entry_id = await _ids(client, me, entry)
    editing = EditingAnalyzer(fresh_db, entry["id"])
    outcome = await analysis_service.analyze_entry(
        live_database, editing, AnalysisSettings(), entry_id, user_id, attempt=1
    )
    assert outcome.status == "superseded"
    counts = _sql(
        fresh_db,
        "SELECT (SELECT count(*) FROM processed_content), (SELECT count(*) FROM entry_embeddings),"
        " (SELECT count(*) FROM entry_topics)",
    )
    assert counts == [(0, 0, 0)]


async def test_a_failure_of_an_outdated_text_is_not_recorded(
    client: httpx.AsyncClient, live_database: Database, fresh_db: DatabaseUrls
) -> None:
    me = await signed_up(client)
    entry = await create_entry(client, me.auth, "Some day.")
    user_id, entry_id = await _ids(client, me, entry)
    with pytest.raises(RuntimeError):
        await analysis_service.analyze_entry(
            live_database, EditingAnalyzer(fresh_db, entry["id"], fail=True),
            AnalysisSettings(max_attempts=1), entry_id, user_id, attempt=1,
        )  # fmt: skip
    state = _sql(fresh_db, "SELECT processing_status, analysis_error FROM entries")
    assert state == [("processing", None)], "the new text's own job decides its fate"

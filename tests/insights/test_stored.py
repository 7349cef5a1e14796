"""Stored insights: regenerating neither duplicates nor resurrects; the worker keeps it all
current (real jobs on a database of their own)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from diarist.config import Settings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.jobs import defer
from diarist.db.provision import DatabaseUrls, libpq_url
from diarist.insights import jobs, tasks
from diarist.journal.schemas import EntryCreate
from diarist.worker import run_worker
from tests.conftest import make_settings
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.insights import planted_journal
from tests.factories.journal import user_with_entries

API = "/api/v1/insights"


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


async def _list(client: httpx.AsyncClient, me: Account, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(API, params=params, headers=me.auth)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


async def test_regenerating_neither_duplicates_nor_resurrects_dismissed_insights(
    client: httpx.AsyncClient, me: Account, database: Database
) -> None:
    user_id = await user_id_of(client, me)
    planted = await planted_journal(database, user_id)
    await tasks.generate_for_user(database, user_id, planted.today)
    first = await _list(client, me)
    assert len(first) >= 3
    await tasks.generate_for_user(database, user_id, planted.today)
    again = await _list(client, me)
    assert sorted(i["id"] for i in again) == sorted(i["id"] for i in first)

    monday = next(i for i in first if i["insight_type"] == "weekday_effect")
    dismissed = await client.post(f"{API}/{monday['id']}/dismiss", headers=me.auth)
    assert dismissed.status_code == 200
    assert dismissed.json()["dismissed_at"] is not None
    await tasks.generate_for_user(database, user_id, planted.today)
    assert monday["id"] not in {i["id"] for i in await _list(client, me)}
    with_dismissed = await _list(client, me, include_dismissed="true")
    assert monday["id"] in {i["id"] for i in with_dismissed}
    assert len(with_dismissed) == len(first)

    restored = await client.post(f"{API}/{monday['id']}/restore", headers=me.auth)
    assert (restored.status_code, restored.json()["dismissed_at"]) == (200, None)
    assert monday["id"] in {i["id"] for i in await _list(client, me)}

    # Evidence gone (the tag deleted): the insight is no longer shown, and no row is added.
    tags = {t["name"]: t["id"] for t in (await client.get("/api/v1/tags", headers=me.auth)).json()}
    running = next(i for i in first if i["insight_data"].get("subject_id") == tags["running"])
    assert (await client.delete(f"/api/v1/tags/{tags['running']}", headers=me.auth)).is_success
    await tasks.generate_for_user(database, user_id, planted.today)
    shown = await _list(client, me, include_dismissed="true")
    assert running["id"] not in {i["id"] for i in shown}
    assert len(shown) == len(first) - 1

    unknown = await client.post(f"{API}/{uuid.uuid4()}/dismiss", headers=me.auth)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "insight_not_found")


async def _run_worker_until_idle(settings: Settings, owner_url: str) -> None:
    """A worker with wait=False stops at the first fetch that finds nothing, even while a
    running job is about to queue another: run it again until no job is left to do."""
    for _ in range(10):
        await run_worker(settings, wait=False)
        with psycopg.connect(owner_url) as owner:
            left = owner.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
            ).fetchone()
        if left == (0,):
            return
    raise AssertionError("jobs are still queued after ten worker runs")


async def test_worker_refreshes_after_analysis_and_runs_the_periodic_tasks(
    fresh_db: DatabaseUrls, tmp_path: Path
) -> None:
    settings = make_settings(fresh_db, tmp_path)
    texts = ("What a wonderful, happy day with friends.", "A miserable, awful evening alone.")
    user_id, _ids = await user_with_entries(
        fresh_db, settings, [EntryCreate(raw_data={"text": t}, mood_rating=5) for t in texts]
    )

    # The analysis jobs defer the statistics refresh in the transaction that saves results.
    await _run_worker_until_idle(settings, libpq_url(fresh_db.owner))

    with psycopg.connect(libpq_url(fresh_db.owner)) as owner:
        day = owner.execute(
            "SELECT entries, mood_n, sentiment_n, emotions_n FROM stats_days WHERE user_id = %s",
            (user_id,),
        ).fetchall()
        dirty = owner.execute("SELECT count(*) FROM stats_dirty_days").fetchone()
        refreshed = owner.execute(
            "SELECT count(*) FROM procrastinate_jobs "
            "WHERE task_name = 'insights:refresh_statistics' AND status = 'succeeded'"
        ).fetchone()
    assert day == [(2, 2, 2, 2)]
    assert dirty == (0,)
    assert refreshed is not None
    assert refreshed[0] >= 1

    # A write that queues no analysis is picked up by the periodic drain; then the nightly
    # rebuild and the daily generation run as real jobs.
    with psycopg.connect(libpq_url(fresh_db.owner), autocommit=True) as owner:
        owner.execute("UPDATE entries SET mood_rating = 9 WHERE user_id = %s", (user_id,))
    database = Database(
        create_engine(fresh_db.app, settings.db, PoolPlan(1, 0), application_name="t")
    )
    try:
        async with database.unit_of_work() as session:
            for spec in (jobs.DRAIN_STATISTICS, jobs.REBUILD_STATISTICS, jobs.GENERATE_INSIGHTS):
                await defer(session, spec, timestamp=0)
    finally:
        await database.dispose()
    await _run_worker_until_idle(settings, libpq_url(fresh_db.owner))

    with psycopg.connect(libpq_url(fresh_db.owner)) as owner:
        mood = owner.execute(
            "SELECT mood_sum FROM stats_days WHERE user_id = %s", (user_id,)
        ).fetchone()
        statuses: dict[str, str] = dict(
            owner.execute(
                "SELECT task_name, status::text FROM procrastinate_jobs "
                "WHERE task_name LIKE 'insights:%%' AND task_name <> 'insights:refresh_statistics'"
            ).fetchall()
        )
    assert mood == (18.0,)
    assert statuses == {
        "insights:drain_statistics": "succeeded",
        "insights:rebuild_statistics": "succeeded",
        "insights:generate_insights": "succeeded",
    }

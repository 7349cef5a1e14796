"""Regressions: dates at the edges of the calendar, one failing user in the periodic loops,
directions and windows in fingerprints, coalesced refreshes queued wherever results are saved."""

from __future__ import annotations

import logging
import uuid
from datetime import date
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from diarist.analysis import service as analysis_service
from diarist.analysis.results import TaskResult
from diarist.config import Settings
from diarist.db.engine import Database
from diarist.insights import repository as repo
from diarist.insights import statistics, stored, tasks
from diarist.kit.jobs import defer_once
from diarist.kit.statistics import Moments
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.journal import create_entry

API = "/api/v1/insights"


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


async def test_entries_at_the_edges_of_the_calendar_break_no_drain_or_read(
    client: httpx.AsyncClient, me: Account, database: Database
) -> None:
    user_id = await user_id_of(client, me)
    await create_entry(client, me.auth, "Ordinary.", mood_rating=5)
    # Written before dates were bounded: 0001-12-31 BC and 10000-01-01 as local days, and
    # the first and last days Python can hold.
    edges = [
        ("0001-01-01 03:00+00", "America/Los_Angeles"),
        ("0001-01-01 12:00+00", "UTC"),
        ("9999-12-31 12:00+00", "UTC"),
        ("9999-12-31 20:00+00", "Pacific/Kiritimati"),
    ]
    for when, zone in edges:
        edge = await create_entry(client, me.auth, "Edge.", mood_rating=7)
        async with database.unit_of_work(user_id=user_id) as session:
            await session.execute(
                text(
                    "UPDATE entries SET entry_date = CAST(:when AS timestamptz), timezone = :zone "
                    "WHERE id = :id"
                ),
                {"when": when, "zone": zone, "id": edge["id"]},
            )
    assert await tasks.drain_user(database, user_id) >= 3
    async with database.unit_of_work(user_id=user_id) as session:
        days = [row.day for row in await repo.list_stored_day_rows(session, user_id)]
        assert date.min in days
        assert date.max in days
        await statistics.rebuild_statistics(session, user_id)
    for path in ("/mood", "/writing", "/correlations", "/usage", "/emotions"):
        response = await client.get(f"{API}{path}", headers=me.auth)
        assert response.status_code == 200, (path, response.text)
    await tasks.generate_for_user(database, user_id, date(2026, 3, 18))


async def test_one_failing_user_does_not_stop_the_others(
    client: httpx.AsyncClient,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, second = await signed_up(client), await signed_up(client)
    users = [await user_id_of(client, first), await user_id_of(client, second)]
    for account in (first, second):
        await create_entry(client, account.auth, "Secret words.", mood_rating=4)
    real_drain = statistics.drain_dirty_days

    async def drain(session: Any, user_id: uuid.UUID) -> int:
        if user_id == users[0]:
            raise OverflowError("date value out of range")
        return await real_drain(session, user_id)

    async def listed(_session: Any) -> list[uuid.UUID]:
        return users

    monkeypatch.setattr(statistics, "drain_dirty_days", drain)
    monkeypatch.setattr(statistics, "list_users_with_dirty_days", listed)
    monkeypatch.setattr(statistics, "list_active_user_ids", listed)
    # Through the standard logging the app configures (structlog's own capture would miss
    # loggers cached by earlier tests).
    with caplog.at_level(logging.ERROR, logger="diarist.insights.tasks"):
        assert await tasks.drain_all(database, database) == 1
        assert await tasks.generate_all(database, database) == 0
    failed = [r.msg for r in caplog.records if r.name == "diarist.insights.tasks"]
    assert all(isinstance(f, dict) for f in failed)
    assert [(f["event"], f["user_id"], f["error"]) for f in failed] == [  # type: ignore[index]
        ("statistics_drain_failed", str(users[0]), "OverflowError"),
        ("insights_generation_failed", str(users[0]), "OverflowError"),
    ]
    assert "Secret" not in caplog.text
    async with database.unit_of_work(user_id=users[1]) as session:
        assert len(await repo.list_stored_day_rows(session, users[1])) == 1


def _test(kind: str, a: tuple[int, float, float], b: tuple[int, float, float]) -> Any:
    return stored.EffectTest(
        kind, f"{kind}:mood:x" if kind != "trend" else "trend:mood", "mood", Moments(*a),
        Moments(*b), suffix=":2026-W12" if kind == "trend" else "",
        data={} if kind == "trend" else {"kind": "tag", "name": "x"},
    )  # fmt: skip


def _sample(values: list[float]) -> tuple[int, float, float]:
    return len(values), sum(values), sum(v * v for v in values)


def test_fingerprints_carry_the_direction_and_the_trend_window() -> None:
    low = _sample([3.0, 4.0, 3.5, 4.5, 3.0, 4.0, 3.5, 4.5, 3.0, 4.0])
    high = _sample([7.0, 8.0, 7.5, 8.5, 7.0, 8.0, 7.5, 8.5, 7.0, 8.0])
    lower = stored.select_effects([_test("tag_effect", low, high)])
    higher = stored.select_effects([_test("tag_effect", high, low)])
    assert [f.fingerprint for f in lower] == ["tag_effect:mood:x:lower"]
    assert [f.fingerprint for f in higher] == ["tag_effect:mood:x:higher"]
    down = stored.select_effects([_test("trend", low, high)])
    assert [f.fingerprint for f in down] == ["trend:mood:down:2026-W12"]
    nothing = SimpleNamespace(
        **{f"{m}_{p}": 0 for m in stored.MEASURES for p in ("n", "sum", "sumsq")}
    )
    later = stored.trend_tests(nothing, nothing, [], date(2026, 4, 20))
    assert later[0].suffix == ":2026-W17"


def test_confidence_follows_the_adjusted_q_value() -> None:
    base = [5.0, 6.0, 5.5, 6.5, 5.0, 6.0, 5.5, 6.5, 5.0, 6.0]
    wide = [4.5, 7.0, 5.0, 6.5, 5.5, 7.5, 4.0, 6.0, 5.0, 7.0, 6.0, 5.5]
    found = stored.select_effects(
        [
            _test("tag_effect", _sample([v + 3 for v in base]), _sample(base)),
            _test("topic_effect", _sample([v + 1.2 for v in wide]), _sample(wide)),
        ]
    )
    confidences = sorted(f.confidence for f in found)
    assert len(found) == 2
    assert confidences[0] < confidences[1]
    for finding in found:
        assert finding.confidence == pytest.approx(
            min(0.999, 1 - finding.data["q_value"]), abs=1e-3
        )
        assert finding.data["tests"] == 2


async def test_refreshes_are_coalesced_and_queued_when_remote_results_are_saved(
    client: httpx.AsyncClient, me: Account, database: Database, settings: Settings
) -> None:
    user_id = await user_id_of(client, me)
    entry = await create_entry(client, me.auth, "Reflected upon.")
    lock = f"{statistics.REFRESH_LOCK}:{user_id}"

    async def queued() -> int:
        async with database.unit_of_work() as session:
            found = await session.scalar(
                text("SELECT count(*) FROM procrastinate_jobs WHERE queueing_lock = :l "
                     "AND status = 'todo'"), {"l": lock},
            )  # fmt: skip
            return int(found or 0)

    async with database.unit_of_work(user_id=user_id) as session:
        content_hash = await session.scalar(
            text("SELECT content_hash FROM entries WHERE id = :id"), {"id": entry["id"]}
        )
    reflection = TaskResult("reflection", {"text": "fine"}, None, {"provider": "openai"})
    assert await analysis_service._save_results(
        database, settings.analysis, user_id, uuid.UUID(entry["id"]), content_hash,
        [reflection], force=True,
    )  # fmt: skip
    assert await queued() == 1
    # Many more saves (a bulk import): still one job waiting, and no transaction failed.
    for _ in range(3):
        async with database.unit_of_work(user_id=user_id) as session:
            await statistics.request_refresh(session, user_id)
    async with database.unit_of_work(user_id=user_id) as session:
        again = await defer_once(session, statistics.REFRESH_TASK, lock=lock, user_id=str(user_id))
        assert again is False
        assert await session.scalar(text("SELECT 1")) == 1  # the transaction is usable
    assert await queued() == 1

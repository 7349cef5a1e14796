"""Statistics endpoints on a journal with planted patterns; tenancy and bad input."""

from __future__ import annotations

import statistics as pystats
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from diarist.db.engine import Database
from diarist.insights import stored_insights as stored
from diarist.insights import tasks
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.insights import ZONE, Planted, planted_journal
from tests.factories.journal import create_entry

API = "/api/v1/insights"


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


@pytest.fixture
async def planted(client: httpx.AsyncClient, me: Account, database: Database) -> Planted:
    user_id = await user_id_of(client, me)
    journal = await planted_journal(database, user_id)
    await tasks.drain_user(database, user_id)
    return journal


async def _get(client: httpx.AsyncClient, me: Account, path: str, **params: Any) -> Any:
    response = await client.get(f"{API}{path}", params=params, headers=me.auth)
    assert response.status_code == 200, response.text
    return response.json()


def _week(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


async def test_mood_over_time_combines_days_exactly(
    client: httpx.AsyncClient, me: Account, planted: Planted
) -> None:
    moods: dict[date, list[int]] = defaultdict(list)
    for day, _hour, mood, _tags in planted.entries:
        moods[_week(day)].append(mood)
    weekly = await _get(client, me, "/mood", granularity="week")
    assert weekly["granularity"] == "week"
    assert [date.fromisoformat(i["period"]) for i in weekly["items"]] == sorted(moods)
    for item in weekly["items"]:
        values = moods[date.fromisoformat(item["period"])]
        assert item["entries"] == len(values)
        assert item["mood"]["n"] == len(values)
        assert item["mood"]["avg"] == pytest.approx(pystats.mean(values), abs=1e-4)
        if len(values) > 1:
            assert item["mood"]["stddev"] == pytest.approx(pystats.stdev(values), abs=1e-4)
        assert item["sentiment"] == {"n": 0, "avg": None, "stddev": None}  # not analysed

    first, last = planted.entries[0][0], planted.entries[-1][0]
    monthly = await _get(client, me, "/mood", granularity="month")
    assert sum(i["entries"] for i in monthly["items"]) == len(planted.entries)
    assert all(date.fromisoformat(i["period"]).day == 1 for i in monthly["items"])
    daily = await _get(
        client,
        me,
        "/mood",
        granularity="day",
        **{"from": first.isoformat(), "to": first.isoformat()},
    )
    assert [i["period"] for i in daily["items"]] == [first.isoformat()]
    assert (daily["from"], daily["to"]) == (first.isoformat(), first.isoformat())
    assert last == planted.today - timedelta(days=1)


async def test_writing_statistics_streaks_and_histograms(
    client: httpx.AsyncClient, me: Account, database: Database
) -> None:
    # Streaks are relative to the user's real today, the one the endpoint uses.
    user_id = await user_id_of(client, me)
    planted = await planted_journal(database, user_id, today=datetime.now(ZoneInfo(ZONE)).date())
    await tasks.drain_user(database, user_id)
    found = await _get(client, me, "/writing")
    assert found["entries"] == len(planted.entries)
    assert found["active_days"] == len({day for day, *_ in planted.entries})
    assert found["current_streak"] == planted.current_streak
    assert found["longest_streak"] == planted.longest_streak
    assert found["today"] == planted.today.isoformat()
    weekdays = Counter(day.isoweekday() for day, *_ in planted.entries)
    assert found["weekdays"] == [weekdays[d] for d in range(1, 8)]
    hours = Counter(hour for _day, hour, *_ in planted.entries)
    assert found["hours"] == [hours[h] for h in range(24)]
    assert found["words"] > 5 * len(planted.entries)

    # Writing today extends the current streak once the worker drained (reads never write).
    await create_entry(client, me.auth, "Today.", timezone="Europe/Berlin")
    assert (await _get(client, me, "/writing"))["current_streak"] == planted.current_streak
    await tasks.drain_user(database, await user_id_of(client, me))
    assert (await _get(client, me, "/writing"))["current_streak"] == planted.current_streak + 1
    # A range narrows the counts (streaks are always over the whole journal).
    day = planted.entries[-1][0].isoformat()
    narrow = await _get(client, me, "/writing", **{"from": day, "to": day})
    assert narrow["entries"] == sum(1 for d, *_ in planted.entries if d.isoformat() == day)


async def test_correlations_find_the_planted_tag_and_not_the_random_one(
    client: httpx.AsyncClient, me: Account, planted: Planted
) -> None:
    found = {i["name"]: i for i in await _get(client, me, "/correlations", kind="tag")}
    running, reading = found["running"], found["reading"]
    expected_running = [m for _d, _h, m, tags in planted.entries if "running" in tags]
    assert running["entries"] == len(expected_running)
    assert running["entries"] + running["entries_without"] == len(planted.entries)
    assert running["mood"]["with"]["avg"] == pytest.approx(pystats.mean(expected_running), 1e-3)
    assert running["mood"]["difference"] >= 1.4
    assert abs(reading["mood"]["difference"]) < 0.75
    assert running["sentiment"]["with"]["n"] == 0

    few = await _get(client, me, "/correlations", min_entries=1000)
    assert few == []


async def test_usage_per_month(client: httpx.AsyncClient, me: Account, planted: Planted) -> None:
    expected: Counter[tuple[str, str]] = Counter()
    for day, _hour, _mood, tags in planted.entries:
        for tag in tags:
            expected[(tag, day.replace(day=1).isoformat())] += 1
    found = await _get(client, me, "/usage", kind="tag")
    seen = {(i["name"], m["month"]): m["entries"] for i in found for m in i["months"]}
    assert seen == dict(expected)
    assert {i["kind"] for i in found} == {"tag"}
    assert await _get(client, me, "/usage", kind="topic") == []  # nothing analysed


async def test_stored_insights_recover_the_planted_patterns(
    client: httpx.AsyncClient, me: Account, planted: Planted, database: Database
) -> None:
    user_id = await user_id_of(client, me)
    assert await tasks.generate_for_user(database, user_id, planted.today) > 0
    items = await _get(client, me, "")
    assert items
    assert all(isinstance(i["insight_data"].get("summary"), str) for i in items)
    tags = {t["name"]: t["id"] for t in (await client.get("/api/v1/tags", headers=me.auth)).json()}
    kinds = {(i["insight_type"], i["insight_data"].get("subject_id"), i["insight_data"].get(
        "weekday")) for i in items}  # fmt: skip
    assert ("weekday_effect", None, 1) in kinds
    monday = next(i for i in items if i["insight_data"].get("weekday") == 1)
    assert monday["insight_data"]["difference"] < -2
    assert monday["insight_data"]["n"] >= stored.MIN_N
    assert monday["insight_data"]["unit"] == "days"
    assert monday["insight_data"]["q_value"] <= stored.MAX_Q
    assert monday["confidence_level"] == pytest.approx(
        min(0.999, 1 - monday["insight_data"]["q_value"]), abs=1e-3
    )
    assert ("tag_effect", tags["running"], None) in kinds
    running = next(i for i in items if i["insight_data"].get("subject_id") == tags["running"])
    assert running["insight_data"]["difference"] >= 1.4
    assert "running" in running["insight_data"]["summary"]
    assert all(i["insight_data"].get("subject_id") != tags["reading"] for i in items)
    assert not any(
        i["insight_type"] == "weekday_effect" and i["insight_data"]["weekday"] != 1 for i in items
    )
    milestones = [i for i in items if i["insight_type"] == "streak_milestone"]
    assert [m["insight_data"]["milestone"] for m in milestones] == [30]
    assert milestones[0]["insight_data"]["longest_streak"] == planted.longest_streak


async def test_emotions_need_analysis(client: httpx.AsyncClient, me: Account) -> None:
    found = await _get(client, me, "/emotions")
    assert found["entries"] == 0
    assert {e["emotion"] for e in found["emotions"]} >= {"joy", "sadness"}
    assert all(e["mean_score"] is None for e in found["emotions"])


async def test_a_user_never_sees_another_users_statistics(
    client: httpx.AsyncClient, me: Account, planted: Planted, database: Database
) -> None:
    await tasks.generate_for_user(database, await user_id_of(client, me), planted.today)
    mine = await _get(client, me, "")
    other = await signed_up(client)
    assert (await _get(client, other, "/mood"))["items"] == []
    writing = await _get(client, other, "/writing")
    assert (writing["entries"], writing["longest_streak"]) == (0, 0)
    assert await _get(client, other, "/correlations", min_entries=1) == []
    assert await _get(client, other, "/usage") == []
    assert await _get(client, other, "") == []
    theirs = await client.post(f"{API}/{mine[0]['id']}/dismiss", headers=other.auth)
    assert (theirs.status_code, theirs.json()["code"]) == (404, "insight_not_found")
    assert theirs.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/mood", {"from": "2025-02-01", "to": "2025-01-01"}, 422, "invalid_period"),
        ("/writing", {"from": "2025-02-01", "to": "2025-01-01"}, 422, "invalid_period"),
        ("/mood", {"granularity": "year"}, 422, "validation_error"),
        ("/mood", {"from": "last tuesday"}, 422, "validation_error"),
        ("/correlations", {"min_entries": 0}, 422, "validation_error"),
        ("/usage", {"kind": "person"}, 422, "validation_error"),
        ("/emotions", {"unknown": "1"}, 422, "validation_error"),
        ("", {"include_dismissed": "maybe"}, 422, "validation_error"),
    ],
)
async def test_bad_input_is_a_problem_with_a_stable_code(
    client: httpx.AsyncClient,
    me: Account,
    path: str,
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = await client.get(f"{API}{path}", params=params, headers=me.auth)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_statistics_need_a_signed_in_user(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/mood")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    bad = await client.post(f"{API}/not-a-uuid/dismiss", headers=(await signed_up(client)).auth)
    assert bad.status_code == 422

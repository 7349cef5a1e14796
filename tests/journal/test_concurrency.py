"""Real concurrent transactions (own database, real pool): no lost update, exact counts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from diarist.accounts.service import AccountsContext
from diarist.db.engine import PoolPlan
from diarist.db.provision import DatabaseUrls
from tests.conftest import make_settings
from tests.factories.accounts import signed_up
from tests.factories.journal import create_entry, markdown
from tests.fixtures.live import live_app_client

WRITERS = 20


@pytest.fixture
async def live_client(
    fresh_db: DatabaseUrls, tmp_path: Path, accounts_context: AccountsContext
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(fresh_db, tmp_path)
    async with live_app_client(settings, fresh_db, accounts_context, PoolPlan(10, 15)) as client:
        yield client


async def test_one_writer_wins_per_version(live_client: httpx.AsyncClient) -> None:
    me = await signed_up(live_client)
    entry = await create_entry(live_client, me.auth, "draft")
    url = f"/api/v1/entries/{entry['id']}"

    async def write(n: int) -> int:
        response = await live_client.patch(
            url,
            json={"raw_data": markdown(f"version by writer {n}")},
            headers={**me.auth, "If-Match": '"1"'},
        )
        return response.status_code

    statuses = await asyncio.gather(*(write(n) for n in range(WRITERS)))
    assert sorted(statuses) == [200] + [412] * (WRITERS - 1)
    final = (await live_client.get(url, headers=me.auth)).json()
    assert final["version"] == 2
    revisions = (await live_client.get(f"{url}/revisions", headers=me.auth)).json()
    assert [r["raw_data"]["text"] for r in revisions] == ["draft"]


async def test_unconditional_writers_all_land(live_client: httpx.AsyncClient) -> None:
    me = await signed_up(live_client)
    entry = await create_entry(live_client, me.auth, "draft")
    url = f"/api/v1/entries/{entry['id']}"
    responses = await asyncio.gather(
        *(live_client.patch(url, json={"mood_rating": 1 + n % 10}, headers=me.auth)
          for n in range(WRITERS))
    )  # fmt: skip
    assert {r.status_code for r in responses} == {200}
    assert sorted(r.json()["version"] for r in responses) == list(range(2, WRITERS + 2))


async def test_usage_counts_are_exact_under_concurrency(live_client: httpx.AsyncClient) -> None:
    me = await signed_up(live_client)
    await asyncio.gather(
        *(create_entry(live_client, me.auth, f"entry {n}", tags=["shared", f"own{n}"])
          for n in range(WRITERS))
    )  # fmt: skip
    tags = {t["name"]: t for t in (await live_client.get("/api/v1/tags", headers=me.auth)).json()}
    assert tags["shared"]["usage_count"] == WRITERS
    assert len(tags) == WRITERS + 1


async def test_idempotent_create_races_make_one_entry(live_client: httpx.AsyncClient) -> None:
    me = await signed_up(live_client)
    body = {"raw_data": markdown("once")}
    headers = {**me.auth, "Idempotency-Key": "race-1"}
    responses = await asyncio.gather(
        *(live_client.post("/api/v1/entries", json=body, headers=headers) for _ in range(10))
    )
    assert {r.json()["id"] for r in responses} == {responses[0].json()["id"]}
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]


async def test_vocabulary_survives_concurrent_edits(live_client: httpx.AsyncClient) -> None:
    me = await signed_up(live_client)
    entries = await asyncio.gather(
        *(create_entry(live_client, me.auth, f"The harbour at dawn, boat {n}.") for n in range(6))
    )
    responses = await asyncio.gather(
        *(
            live_client.patch(
                f"/api/v1/entries/{entry['id']}",
                json={"raw_data": markdown(f"The meadow at dusk, sheep {n}.")},
                headers=me.auth,
            )
            for n, entry in enumerate(entries)
        )
    )
    assert {r.status_code for r in responses} == {200}
    # "harbour" left every entry, so it left the vocabulary: nothing to correct "harbor" to.
    keyword = {"mode": "keyword"}
    found = await live_client.get(
        "/api/v1/search", params={"q": "harbor", **keyword}, headers=me.auth
    )
    assert (found.json()["items"], found.json()["corrected_query"]) == ([], None)
    meadow = await live_client.get(
        "/api/v1/search", params={"q": "medow", **keyword}, headers=me.auth
    )
    assert meadow.json()["corrected_query"] == "medow or meadow"


async def test_parallel_guesses_cannot_outrun_the_throttle(live_client: httpx.AsyncClient) -> None:
    me = await signed_up(live_client)
    responses = await asyncio.gather(
        *(
            live_client.post(
                "/api/v1/auth/login", json={"email": me.email, "password": f"guess-{n}-wrong"}
            )
            for n in range(20)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    # Five free failures, a sixth that starts the backoff; everything after waits.
    assert statuses == [401] * 6 + [429] * 14

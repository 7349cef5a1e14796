"""The OpenAI-compatible provider against a real local server that speaks its protocol."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from diarist.accounts.service import AccountsContext
from diarist.app import create_app
from diarist.config import AnalysisSettings, OpenAISettings, Settings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls
from diarist.worker import run_worker
from tests.conftest import make_settings
from tests.factories.accounts import Account, signed_up
from tests.factories.journal import create_entry
from tests.fixtures.fake_openai import FakeOpenAI, fake_openai_server


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        yield server


@pytest.fixture
def settings(fresh_db: DatabaseUrls, tmp_path: Path, fake: FakeOpenAI) -> Settings:
    openai = OpenAISettings(
        base_url=fake.url, api_key=SecretStr("sk-test-key"), chat_model="tiny", timeout_s=0.5
    )
    analysis = AnalysisSettings(max_attempts=2, retry_base_s=0.05, openai=openai)
    return make_settings(fresh_db, tmp_path).model_copy(update={"analysis": analysis})


@pytest.fixture
async def client(
    settings: Settings, fresh_db: DatabaseUrls, accounts_context: AccountsContext
) -> AsyncIterator[httpx.AsyncClient]:
    database = Database(
        create_engine(fresh_db.app, settings.db, PoolPlan(5, 5), application_name="t")
    )
    app = create_app(settings, database=database)
    app.state.accounts = accounts_context
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://diarist.test") as http,
        ):
            yield http
    finally:
        await database.dispose()


async def _consent(client: httpx.AsyncClient, me: Account) -> None:
    response = await client.patch(
        "/api/v1/me",
        json={"preferences": {"ai_processing": {"providers": ["local", "openai"]}}},
        headers=me.auth,
    )
    assert response.status_code == 200


async def _analysis(
    client: httpx.AsyncClient, me: Account, entry: dict[str, Any]
) -> dict[str, Any]:
    body: dict[str, Any] = (
        await client.get(f"/api/v1/entries/{entry['id']}", headers=me.auth)
    ).json()
    return dict(body["analysis"])


async def test_only_consenting_users_reach_the_remote_provider(
    client: httpx.AsyncClient, settings: Settings, fake: FakeOpenAI
) -> None:
    private = await signed_up(client)
    await create_entry(client, private.auth, "My private thoughts about the garden.")
    await run_worker(settings, wait=False)
    assert fake.requests == [], "without consent no diary text leaves the machine"

    willing = await signed_up(client)
    await _consent(client, willing)
    entry = await create_entry(client, willing.auth, "A gentle day outside in the sun.")
    await run_worker(settings, wait=False)
    analysis = await _analysis(client, willing, entry)
    assert analysis["status"] == "completed"
    assert analysis["reflection"] == "You spent a gentle day outside and felt at peace."
    assert len(fake.requests) == 1
    assert fake.requests[0]["model"] == "tiny"
    assert "A gentle day outside" in fake.requests[0]["messages"][1]["content"]
    assert fake.authorization == ["Bearer sk-test-key"]


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("error", "ProviderError: provider answered HTTP 500"),
        ("rate_limited", "ProviderError: provider answered HTTP 429"),
        ("slow", "ProviderError: ReadTimeout calling the provider"),
    ],
)
async def test_a_failing_provider_is_retried_then_recorded_then_recovers(
    client: httpx.AsyncClient, settings: Settings, fake: FakeOpenAI, mode: str, error: str
) -> None:
    me = await signed_up(client)
    await _consent(client, me)
    fake.mode = mode
    entry = await create_entry(client, me.auth, "A day to remember.")
    for _ in range(40):
        await run_worker(settings, wait=False)
        if (await _analysis(client, me, entry))["status"] == "failed":
            break
        await asyncio.sleep(0.05)
    failed = await _analysis(client, me, entry)
    assert (failed["status"], failed["error"]) == ("failed", error)
    assert failed["sentiment"] is not None, "the local results are kept through the outage"
    assert len(fake.requests) == settings.analysis.max_attempts

    fake.mode = "ok"
    await client.post(f"/api/v1/entries/{entry['id']}/analyze", headers=me.auth)
    await run_worker(settings, wait=False)
    recovered = await _analysis(client, me, entry)
    assert (recovered["status"], recovered["error"]) == ("completed", None)
    assert recovered["reflection"]

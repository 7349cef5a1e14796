"""The OpenAI-compatible provider against a real local server that speaks its protocol."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from diarist.accounts.service import AccountsContext
from diarist.analysis.service import requeue_stuck
from diarist.cli import cli
from diarist.config import AnalysisSettings, OpenAISettings, Settings, get_settings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls, libpq_url
from diarist.worker import run_worker
from tests.conftest import make_settings
from tests.factories.accounts import Account, signed_up
from tests.factories.journal import create_entry
from tests.fixtures.fake_openai import FakeOpenAI, fake_openai_server
from tests.fixtures.live import live_app_client


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
    async with live_app_client(settings, fresh_db, accounts_context, PoolPlan(5, 5)) as http:
        yield http


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


def _embedding_models(urls: DatabaseUrls) -> list[tuple[str, int]]:
    with psycopg.connect(libpq_url(urls.owner)) as conn:
        rows = conn.execute(
            "SELECT model, dimensions FROM entry_embeddings ORDER BY model, entry_id"
        )
        return [(row[0], row[1]) for row in rows]


def _remote(settings: Settings, provider: str) -> Settings:
    openai = settings.analysis.openai.model_copy(
        update={"embedding_model": "fake-embed", "embedding_dimensions": 8, "reflections": False}
    )
    analysis = settings.analysis.model_copy(
        update={"openai": openai, "embedding_provider": provider}
    )
    return settings.model_copy(update={"analysis": analysis})


async def test_remote_embeddings_only_for_consenting_users(
    client: httpx.AsyncClient, settings: Settings, fake: FakeOpenAI, fresh_db: DatabaseUrls
) -> None:
    remote = _remote(settings, "openai")
    private = await signed_up(client)
    await create_entry(client, private.auth, "Private words about my garden.")
    willing = await signed_up(client)
    await _consent(client, willing)
    entry = await create_entry(client, willing.auth, "Shared words about the sea.")
    await run_worker(remote, wait=False)
    assert fake.embedded == [entry["raw_data"]["text"]]
    assert _embedding_models(fresh_db) == [
        ("all-MiniLM-L6-v2-int8", 384),
        ("all-MiniLM-L6-v2-int8", 384),
        ("openai:fake-embed", 8),
    ]
    assert fake.requests == [], "reflections were turned off"


async def test_switching_the_model_re_embeds_in_the_background(
    client: httpx.AsyncClient, settings: Settings, fake: FakeOpenAI, fresh_db: DatabaseUrls
) -> None:
    me = await signed_up(client)
    await _consent(client, me)
    local_only = _remote(settings, "local")
    for n in range(3):
        await create_entry(client, me.auth, f"Entry number {n} about the mountains.")
    await run_worker(local_only, wait=False)
    assert fake.embedded == []
    assert {model for model, _ in _embedding_models(fresh_db)} == {"all-MiniLM-L6-v2-int8"}

    switched = _remote(settings, "openai")
    system = Database(
        create_engine(fresh_db.system, settings.db, PoolPlan(1, 0), application_name="t")
    )
    try:
        async with system.unit_of_work() as session:
            assert await requeue_stuck(session, switched.analysis) == 3
    finally:
        await system.dispose()
    while any(status == "todo" for status in _job_states(fresh_db)):
        await run_worker(switched, wait=False)
    models = _embedding_models(fresh_db)
    assert models.count(("openai:fake-embed", 8)) == 3
    assert models.count(("all-MiniLM-L6-v2-int8", 384)) == 3, "the old vectors stay meanwhile"
    assert len(fake.embedded) == 3


def _job_states(urls: DatabaseUrls) -> list[str]:
    with psycopg.connect(libpq_url(urls.owner)) as conn:
        return [row[0] for row in conn.execute("SELECT status::text FROM procrastinate_jobs")]


def test_index_for_a_remote_model(fresh_db: DatabaseUrls, tmp_path: Path) -> None:
    env = {
        "DIARIST_DATABASE_URL": fresh_db.app.render_as_string(hide_password=False),
        "DIARIST_DB__OWNER_URL": fresh_db.owner.render_as_string(hide_password=False),
        "DIARIST_SECRET_KEY": "k" * 48,
        "DIARIST_DATA_DIR": str(tmp_path),
        "DIARIST_ANALYSIS__OPENAI__EMBEDDING_MODEL": "fake-embed",
        "DIARIST_ANALYSIS__OPENAI__EMBEDDING_DIMENSIONS": "8",
    }
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["analysis", "index-model"], env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    with psycopg.connect(libpq_url(fresh_db.owner)) as conn:
        found = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname LIKE 'ix_entry_embeddings_hnsw_%' "
            "AND indexdef LIKE '%openai:fake-embed%'"
        ).fetchall()
    assert len(found) == 1
    assert "vector(8)" in found[0][0]

"""While the embedder works on a query (under load its queue is the longest wait), the search
holds no database connection; an embedder that does not answer in time is a 503 with
Retry-After. The embedder here is the real one, served over HTTP, made slow."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from diarist.accounts.service import AccountsContext
from diarist.analysis.embedder_server import embedder_app
from diarist.analysis.embeddings import Embedder, Vectors
from diarist.config import Settings
from diarist.db.engine import PoolPlan
from diarist.db.provision import DatabaseUrls
from diarist.models.analysis import EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL
from diarist.search.errors import ClientGone, SemanticSearchUnavailable
from diarist.search.query_embedder import LOCAL_IN_FLIGHT, QueryEmbedder
from tests.conftest import make_settings
from tests.factories.accounts import signed_up
from tests.factories.journal import create_entry
from tests.fixtures.http_server import serving
from tests.fixtures.live import live_app_client

DELAY_S = 1.0


class SlowEmbedder(Embedder):
    """The real model, answering a second late (as behind a queue of other queries)."""

    def embed(self, texts: list[str]) -> Vectors:
        time.sleep(DELAY_S)
        return super().embed(texts)


@pytest.fixture
async def slow_embedder_url() -> AsyncIterator[str]:
    async with serving(embedder_app(SlowEmbedder())) as port:
        yield f"http://127.0.0.1:{port}"


async def test_a_search_gives_its_connection_back_while_the_embedder_works(
    fresh_db: DatabaseUrls,
    tmp_path: Path,
    accounts_context: AccountsContext,
    slow_embedder_url: str,
) -> None:
    settings = make_settings(fresh_db, tmp_path)
    settings.analysis = settings.analysis.model_copy(update={"embedder_url": slow_embedder_url})
    # One connection in the pool: a search that held it would make the timeline wait.
    async with live_app_client(settings, fresh_db, accounts_context, PoolPlan(1, 0)) as client:
        me = await signed_up(client)
        await create_entry(client, me.auth, "A walk by the sea.")
        finished: list[str] = []

        async def search() -> None:
            params = {"q": "the sea", "mode": "semantic"}
            response = await client.get("/api/v1/search", params=params, headers=me.auth)
            assert response.status_code == 200, response.text
            finished.append("search")

        async def timeline() -> None:
            await asyncio.sleep(DELAY_S / 4)  # the search is at the embedder by now
            response = await client.get("/api/v1/entries", headers=me.auth)
            assert response.status_code == 200
            finished.append("timeline")

        await asyncio.gather(search(), timeline())
        assert finished == ["timeline", "search"]


async def test_an_embedder_late_past_the_deadline_is_a_503_to_retry(
    app: FastAPI, client: httpx.AsyncClient, slow_embedder_url: str
) -> None:
    settings = app.state.settings.model_copy(deep=True)
    settings.analysis.embedder_url = slow_embedder_url
    settings.analysis.embedder_timeout_s = DELAY_S / 5
    await app.state.query_embedder.close()
    app.state.query_embedder = QueryEmbedder(settings)
    me = await signed_up(client)
    await create_entry(client, me.auth, "A walk by the sea.")
    response = await client.get(
        "/api/v1/search", params={"q": "the sea", "mode": "semantic"}, headers=me.auth
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["code"] == "semantic_search_unavailable"


class StalledEmbedder(Embedder):
    """The real model, stalled while `stalled` is set (as behind a long queue)."""

    def __init__(self) -> None:
        super().__init__()
        self.stalled = threading.Event()
        self.seen: list[str] = []

    def embed(self, texts: list[str]) -> Vectors:
        self.seen += texts
        while self.stalled.is_set():
            time.sleep(0.01)
        return super().embed(texts)


async def test_queries_that_missed_their_deadline_leave_the_embedder_reachable(
    settings: Settings,
) -> None:
    """More queries than may be in flight, all late: each is a 503, and once the embedder
    answers again so does the next query (a query cancelled inside the HTTP client could
    keep its pooled connection for good, and then every later one waited out its deadline)."""
    model = StalledEmbedder()
    model.stalled.set()
    async with serving(embedder_app(model)) as port:
        settings = settings.model_copy(deep=True)
        settings.analysis.embedder_url = f"http://127.0.0.1:{port}"
        settings.analysis.embedder_timeout_s = 0.5
        embedder = QueryEmbedder(settings)
        try:
            late = await asyncio.gather(
                *(embedder.embed(f"query {i}", LOCAL_EMBEDDING_MODEL) for i in range(40)),
                return_exceptions=True,
            )
            assert all(isinstance(r, SemanticSearchUnavailable) for r in late), late
            model.stalled.clear()
            for _ in range(3):
                vector = await embedder.embed("a walk by the sea", LOCAL_EMBEDDING_MODEL)
                assert len(vector) == EMBEDDING_DIMENSIONS
        finally:
            await embedder.close()


async def test_a_query_whose_client_left_while_it_waited_is_not_embedded(
    settings: Settings,
) -> None:
    model = StalledEmbedder()
    model.stalled.set()
    async with serving(embedder_app(model)) as port:
        settings = settings.model_copy(deep=True)
        settings.analysis.embedder_url = f"http://127.0.0.1:{port}"
        embedder = QueryEmbedder(settings)
        try:
            busy = [
                asyncio.create_task(embedder.embed(f"query {i}", LOCAL_EMBEDDING_MODEL))
                for i in range(LOCAL_IN_FLIGHT)
            ]
            await asyncio.sleep(0.3)  # every slot is taken by now

            async def gone() -> bool:
                # Asked once a slot is free (after the stall): asked before waiting for
                # one, the answer would still be "here", and the query would be sent.
                return not model.stalled.is_set()

            left = asyncio.create_task(embedder.embed("left", LOCAL_EMBEDDING_MODEL, gone))
            await asyncio.sleep(0.1)
            model.stalled.clear()
            with pytest.raises(ClientGone):
                await left
            assert len(await asyncio.gather(*busy)) == LOCAL_IN_FLIGHT
            assert "left" not in model.seen
        finally:
            await embedder.close()

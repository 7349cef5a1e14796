"""The query embedder service: the OpenAI embeddings protocol over a unix socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from diarist.analysis.embedder_service import MAX_INPUT_CHARS, MAX_INPUTS
from diarist.analysis.embeddings import get_embedder
from diarist.analysis.results import DIMENSIONS, MODEL_NAME


@pytest.fixture
async def embedder(embedder_url: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.AsyncHTTPTransport(uds=embedder_url.removeprefix("unix:"))
    async with httpx.AsyncClient(transport=transport, base_url="http://embedder") as client:
        yield client


async def test_embeds_like_the_worker(embedder: httpx.AsyncClient) -> None:
    texts = ["a walk by the sea", "tax forms"]
    response = await embedder.post("/v1/embeddings", json={"model": MODEL_NAME, "input": texts})
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == MODEL_NAME
    assert [row["index"] for row in body["data"]] == [0, 1]
    expected = get_embedder().embed(texts)
    for row, vector in zip(body["data"], expected, strict=True):
        assert len(row["embedding"]) == DIMENSIONS
        assert row["embedding"] == pytest.approx([float(x) for x in vector], abs=1e-6)
    single = await embedder.post("/v1/embeddings", json={"model": MODEL_NAME, "input": texts[0]})
    assert single.json()["data"][0]["embedding"] == body["data"][0]["embedding"]
    assert (await embedder.get("/healthz")).json() == {"status": "ok", "model": MODEL_NAME}


@pytest.mark.parametrize(
    "body",
    [
        {"model": "text-embedding-3-small", "input": "x"},
        {"model": MODEL_NAME},
        {"model": MODEL_NAME, "input": []},
        {"model": MODEL_NAME, "input": ["x"] * (MAX_INPUTS + 1)},
        {"model": MODEL_NAME, "input": ["x" * (MAX_INPUT_CHARS + 1)]},
        {"model": MODEL_NAME, "input": [1, 2]},
        ["not", "an", "object"],
    ],
)
async def test_bad_requests_are_refused(embedder: httpx.AsyncClient, body: Any) -> None:
    response = await embedder.post("/v1/embeddings", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_a_body_that_is_not_json_is_refused(embedder: httpx.AsyncClient) -> None:
    response = await embedder.post("/v1/embeddings", content=b"{nope")
    assert response.status_code == 400

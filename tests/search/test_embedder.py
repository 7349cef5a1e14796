"""The query embedder service: the OpenAI embeddings protocol over a unix socket."""

from __future__ import annotations

import asyncio
import base64
import json
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from diarist.analysis.embedder_server import (
    MAX_BODY_BYTES,
    MAX_INPUT_CHARS,
    MAX_INPUTS,
    Batcher,
    embedder_app,
)
from diarist.analysis.embeddings import Embedder, Vectors, get_embedder
from diarist.analysis.openai import decode_embedding
from diarist.kit.sockets import MAX_SOCKET_DIR, UnsafeSocketDir, make_socket_dir, socket_dir
from diarist.models.analysis import EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL
from tests.fixtures.http_server import serving


@pytest.fixture
async def embedder(embedder_url: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.AsyncHTTPTransport(uds=embedder_url.removeprefix("unix:"))
    async with httpx.AsyncClient(transport=transport, base_url="http://embedder") as client:
        yield client


async def test_embeds_like_the_worker(embedder: httpx.AsyncClient) -> None:
    texts = ["a walk by the sea", "tax forms"]
    response = await embedder.post(
        "/v1/embeddings", json={"model": LOCAL_EMBEDDING_MODEL, "input": texts}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == LOCAL_EMBEDDING_MODEL
    assert [row["index"] for row in body["data"]] == [0, 1]
    expected = get_embedder().embed(texts)
    for row, vector in zip(body["data"], expected, strict=True):
        assert len(row["embedding"]) == EMBEDDING_DIMENSIONS
        assert row["embedding"] == pytest.approx([float(x) for x in vector], abs=1e-6)
    single = await embedder.post(
        "/v1/embeddings", json={"model": LOCAL_EMBEDDING_MODEL, "input": texts[0]}
    )
    assert single.json()["data"][0]["embedding"] == body["data"][0]["embedding"]
    assert (await embedder.get("/healthz")).json() == {
        "status": "ok",
        "model": LOCAL_EMBEDDING_MODEL,
    }


@pytest.mark.parametrize(
    "body",
    [
        {"model": "text-embedding-3-small", "input": "x"},
        {"model": LOCAL_EMBEDDING_MODEL},
        {"model": LOCAL_EMBEDDING_MODEL, "input": []},
        {"model": LOCAL_EMBEDDING_MODEL, "input": ["x"] * (MAX_INPUTS + 1)},
        {"model": LOCAL_EMBEDDING_MODEL, "input": ["x" * (MAX_INPUT_CHARS + 1)]},
        {"model": LOCAL_EMBEDDING_MODEL, "input": [1, 2]},
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


async def test_a_body_over_the_limit_is_refused(embedder: httpx.AsyncClient) -> None:
    body = json.dumps({"model": LOCAL_EMBEDDING_MODEL, "input": ["x" * 1000] * 200}).encode()
    assert len(body) > MAX_BODY_BYTES
    response = await embedder.post("/v1/embeddings", content=body)
    assert response.status_code == 413


def test_a_socket_directory_others_could_swap_is_refused(tmp_path: Path) -> None:
    mine = make_socket_dir(tmp_path / "run")
    assert stat.S_IMODE(mine.stat().st_mode) == 0o700
    opened = tmp_path / "opened"
    opened.mkdir(mode=0o777)
    opened.chmod(0o777)
    with pytest.raises(UnsafeSocketDir):
        make_socket_dir(opened)
    (tmp_path / "link").symlink_to(mine)
    with pytest.raises(UnsafeSocketDir):
        make_socket_dir(tmp_path / "link")
    deep = tmp_path / ("d" * 90)
    assert socket_dir(deep) == socket_dir(deep), "a long path maps to one short place"
    assert len(str(socket_dir(deep))) < MAX_SOCKET_DIR


async def test_vectors_come_as_float32_bytes_when_asked(embedder: httpx.AsyncClient) -> None:
    """`encoding_format: base64` (as OpenAI's endpoint): the same vector, a quarter of the
    JSON, read by the API's client without parsing floats."""
    body = {"model": LOCAL_EMBEDDING_MODEL, "input": ["a walk by the sea"]}
    floats = (await embedder.post("/v1/embeddings", json=body)).json()["data"][0]["embedding"]
    packed = await embedder.post("/v1/embeddings", json={**body, "encoding_format": "base64"})
    encoded = packed.json()["data"][0]["embedding"]
    assert isinstance(encoded, str)
    assert len(base64.b64decode(encoded)) == 4 * EMBEDDING_DIMENSIONS
    assert decode_embedding(encoded) == pytest.approx(floats, abs=1e-6)
    assert decode_embedding(floats) == floats
    refused = await embedder.post("/v1/embeddings", json={**body, "encoding_format": "int8"})
    assert refused.status_code == 400
    with pytest.raises(ValueError, match="float32"):
        decode_embedding("abc=")  # not whole float32 values


class _Slow(Embedder):
    """The real model, each run taking at least `delay_s` (as under load)."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s
        self.batches: list[list[str]] = []

    def embed(self, texts: list[str]) -> Vectors:
        self.batches.append(texts)
        time.sleep(self.delay_s)
        return super().embed(texts)


async def _post(port: int, text: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        body = {"model": LOCAL_EMBEDDING_MODEL, "input": text}
        return await client.post("/v1/embeddings", json=body)


async def test_queries_that_wait_run_together_and_get_their_own_vectors() -> None:
    model = _Slow(delay_s=0.3)
    texts = [f"a walk number {i} by the sea" for i in range(12)]
    async with serving(embedder_app(model)) as port:
        first = asyncio.create_task(_post(port, "the first query runs alone"))
        await asyncio.sleep(0.1)  # the model is busy with it: the others wait together
        answers = await asyncio.gather(*(_post(port, text) for text in texts))
        assert (await first).status_code == 200
    assert len(model.batches) == 2, [len(b) for b in model.batches]
    assert sorted(model.batches[1]) == sorted(texts)
    expected = get_embedder().embed(texts)
    for answer, vector in zip(answers, expected, strict=True):
        assert answer.status_code == 200
        assert answer.json()["data"][0]["embedding"] == pytest.approx(
            [float(x) for x in vector], abs=1e-5
        )


async def test_a_query_that_waited_past_the_deadline_is_refused_unrun() -> None:
    model = _Slow(delay_s=0.5)
    async with serving(embedder_app(model, deadline_s=0.2)) as port:
        first = asyncio.create_task(_post(port, "the first query"))
        await asyncio.sleep(0.1)
        late = await _post(port, "a query behind it")
        assert (await first).status_code == 200
        assert late.status_code == 503
        assert "deadline" in late.json()["error"]["message"]
        assert model.batches == [["the first query"]], "the late one never ran"
        assert (await _post(port, "a query after the queue drained")).status_code == 200


class _Failing(_Slow):
    """The real model's wrapper, failing its second run (as a model might on a bad input)."""

    def embed(self, texts: list[str]) -> Vectors:
        self.batches.append(texts)
        time.sleep(self.delay_s)
        if len(self.batches) == 2:
            raise RuntimeError("the model failed")
        return Embedder.embed(self, texts)


async def test_a_failed_run_fails_its_queries_and_the_next_ones_are_answered() -> None:
    model = _Failing(delay_s=0.2)
    batcher = Batcher(model, deadline_s=5)
    first = asyncio.create_task(batcher.embed(["runs alone"]))
    await asyncio.sleep(0.05)
    # These wait together for the second run, which fails; one caller has gone by then.
    gone = asyncio.create_task(batcher.embed(["a caller who leaves"]))
    failed = asyncio.create_task(batcher.embed(["fails with its batch"]))
    await asyncio.sleep(0.25)  # the second run has started
    gone.cancel()
    async with asyncio.timeout(5):  # a dead runner would leave these waiting for ever
        assert len(await first) == 1
        with pytest.raises(RuntimeError):
            await failed
        assert len(await batcher.embed(["the runner is still there"])) == 1
    assert [len(b) for b in model.batches] == [1, 2, 1]

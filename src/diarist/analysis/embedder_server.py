"""`diarist embedder`: the local embedding model as a small HTTP server, so API processes can
embed a search query without loading a model (they stay small; see docs/architecture.md).

It speaks the OpenAI embeddings protocol (`POST /v1/embeddings`, vectors as floats or, with
`encoding_format: base64`, as float32 bytes), so the API reaches it with the same client as a
remote provider. It listens on a unix socket under the data dir by
default (only local processes of the same user can reach it), or on a TCP port for a
deployment with the API on several hosts (it has no authentication of its own: keep such a
port on a private network). The model is loaded before the socket is bound: a refused
connection means "not ready yet". Requests that arrive while the model runs are run together
in its next run (`Batcher`); one that waited past the API's deadline is refused unrun.
Nothing is cached: a cache's faster answers would tell
anyone who can reach the service which phrases were searched recently.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from diarist.analysis.embeddings import Embedder, Vectors, get_embedder
from diarist.config import Settings
from diarist.kit.sockets import make_socket_dir
from diarist.models.analysis import LOCAL_EMBEDDING_MODEL

_log = structlog.get_logger("diarist.embedder")

MAX_INPUTS = 16
MAX_INPUT_CHARS = 4000
MAX_BODY_BYTES = 128 * 1024
# Texts per run of the model: the requests that waited while it last ran, up to this many.
BATCH_TEXTS = 32
assert MAX_INPUTS <= BATCH_TEXTS  # a request always fits in a run
_ENCODINGS = frozenset({"float", "base64"})


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error"}}, status)


def _encode(vector: np.ndarray[Any, Any], encoding: str) -> list[float] | str:
    """A vector as the protocol's `float` list or `base64` (little-endian float32 bytes,
    what OpenAI's endpoint answers: a quarter of the JSON, no float formatting or parsing)."""
    if encoding == "base64":
        return base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
    return [float(x) for x in vector]


def _inputs(body: Any) -> list[str] | str:
    """The texts of a request, or the reason it is refused."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if body.get("model") != LOCAL_EMBEDDING_MODEL:
        return f"this service embeds with {LOCAL_EMBEDDING_MODEL} only"
    texts = body.get("input")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts or len(texts) > MAX_INPUTS:
        return f"input must be a string or a list of 1 to {MAX_INPUTS} strings"
    if not all(isinstance(text, str) and len(text) <= MAX_INPUT_CHARS for text in texts):
        return f"each input must be a string of at most {MAX_INPUT_CHARS} characters"
    if body.get("encoding_format", "float") not in _ENCODINGS:
        return "encoding_format must be 'float' or 'base64'"
    return texts


class QueueTooLong(Exception):
    """A request waited longer than its caller waits for an answer: it is not run."""


@dataclass
class _Waiting:
    texts: list[str]
    answer: asyncio.Future[Vectors]
    since: float


class Batcher:
    """Runs the model once for every request that arrived while it last ran (up to
    BATCH_TEXTS texts): a query alone costs about 5 ms of CPU, one of 16 run together about
    2.4 ms each, and one run at a time leaves the other cores to the API and PostgreSQL.
    A request that has waited longer than `deadline_s` (the API's own timeout: nobody waits
    for its answer any more) is refused unrun, so a backlog drains instead of growing."""

    def __init__(self, embedder: Embedder, deadline_s: float) -> None:
        self._embedder = embedder
        self._deadline_s = deadline_s
        self._waiting: deque[_Waiting] = deque()
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self.runs = 0

    async def embed(self, texts: list[str]) -> Vectors:
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())  # on the serving loop
        request = _Waiting(texts, asyncio.get_running_loop().create_future(), time.monotonic())
        self._waiting.append(request)
        self._wake.set()
        return await request.answer

    def _next_batch(self) -> list[_Waiting]:
        batch: list[_Waiting] = []
        size = 0
        too_old = time.monotonic() - self._deadline_s
        while self._waiting and size + len(self._waiting[0].texts) <= BATCH_TEXTS:
            request = self._waiting.popleft()
            if request.answer.done():
                continue  # its caller went away
            if request.since < too_old:
                request.answer.set_exception(QueueTooLong())
                continue
            batch.append(request)
            size += len(request.texts)
        return batch

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while batch := self._next_batch():
                texts = [text for request in batch for text in request.texts]
                try:
                    vectors = await asyncio.to_thread(self._embedder.embed, texts)
                except Exception as exc:  # the callers answer 500; the runner goes on
                    for request in batch:
                        if not request.answer.done():  # a caller may have gone meanwhile
                            request.answer.set_exception(exc)
                    continue
                finally:
                    self.runs += 1
                start = 0
                for request in batch:
                    if not request.answer.done():
                        request.answer.set_result(vectors[start : start + len(request.texts)])
                    start += len(request.texts)


def embedder_app(
    embedder: Embedder, socket: Path | None = None, *, deadline_s: float = 5.0
) -> Starlette:
    """The service's app; it removes `socket` when it shuts down (uvicorn re-raises the stop
    signal after a graceful shutdown, so code after `uvicorn.run` would never run). A request
    not run within `deadline_s` is answered 503."""
    batcher = Batcher(embedder, deadline_s)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if socket is not None:
                socket.unlink(missing_ok=True)  # noqa: ASYNC240 (at shutdown, once)
            _log.info("embedder_stopped", pid=os.getpid())

    async def embeddings(request: Request) -> JSONResponse:
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY_BYTES:
                return _error(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "the body is not JSON")
        texts = _inputs(body)
        if isinstance(texts, str):
            return _error(400, texts)
        try:
            vectors = await batcher.embed(texts)
        except QueueTooLong:
            return _error(503, "the queue is longer than the deadline; try again")
        encoding = body.get("encoding_format", "float")
        data = [
            {"object": "embedding", "index": index, "embedding": _encode(vector, encoding)}
            for index, vector in enumerate(vectors)
        ]
        return JSONResponse({"object": "list", "model": LOCAL_EMBEDDING_MODEL, "data": data})

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "model": LOCAL_EMBEDDING_MODEL})

    app = Starlette(
        routes=[
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.batcher = batcher
    return app


def socket_path(url: str) -> Path | None:
    """The socket file of a `unix:/…` embedder URL (None for an HTTP URL)."""
    return Path(url.removeprefix("unix:")) if url.startswith("unix:") else None


def run_embedder(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """Load the model, then serve until stopped: on `host:port` when given, else on the
    unix socket of `settings.embedder_url`."""
    embedder = get_embedder(settings.analysis.onnx_threads)
    deadline_s = settings.analysis.embedder_timeout_s
    options: dict[str, Any] = {"log_config": None, "access_log": False, "server_header": False}
    if port is not None:
        _log.info("embedder_started", host=host, port=port)
        uvicorn.run(
            embedder_app(embedder, deadline_s=deadline_s),
            host=host or "127.0.0.1",
            port=port,
            **options,
        )
        return
    path = socket_path(settings.embedder_url)
    if path is None:
        raise ValueError("DIARIST_ANALYSIS__EMBEDDER_URL is an HTTP URL: pass --port to serve")
    make_socket_dir(path.parent)
    path.unlink(missing_ok=True)  # left by a process that was killed
    _log.info("embedder_started", socket=str(path))
    uvicorn.run(embedder_app(embedder, path, deadline_s=deadline_s), uds=str(path), **options)

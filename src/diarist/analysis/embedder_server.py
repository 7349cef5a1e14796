"""`diarist embedder`: the local embedding model as a small HTTP server, so API processes can
embed a search query without loading a model (they stay small; see docs/architecture.md).

It speaks the OpenAI embeddings protocol (`POST /v1/embeddings`, vectors as floats or, with
`encoding_format: base64`, as float32 bytes), so the API reaches it with the same client as a
remote provider. It listens on a unix socket under the data dir by
default (only local processes of the same user can reach it), or on a TCP port for a
deployment with the API on several hosts (it has no authentication of its own: keep such a
port on a private network). The model is loaded before the socket is bound: a refused
connection means "not ready yet". Nothing is cached: a cache's faster answers would tell
anyone who can reach the service which phrases were searched recently.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from diarist.analysis.embeddings import Embedder, get_embedder
from diarist.config import Settings
from diarist.kit.sockets import make_socket_dir
from diarist.models.analysis import LOCAL_EMBEDDING_MODEL

_log = structlog.get_logger("diarist.embedder")

MAX_INPUTS = 16
MAX_INPUT_CHARS = 4000
MAX_BODY_BYTES = 128 * 1024
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


def embedder_app(embedder: Embedder, socket: Path | None = None) -> Starlette:
    """The service's app; it removes `socket` when it shuts down (uvicorn re-raises the stop
    signal after a graceful shutdown, so code after `uvicorn.run` would never run)."""

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
        vectors = await run_in_threadpool(embedder.embed, texts)
        encoding = body.get("encoding_format", "float")
        data = [
            {"object": "embedding", "index": index, "embedding": _encode(vector, encoding)}
            for index, vector in enumerate(vectors)
        ]
        return JSONResponse({"object": "list", "model": LOCAL_EMBEDDING_MODEL, "data": data})

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "model": LOCAL_EMBEDDING_MODEL})

    return Starlette(
        routes=[
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def socket_path(url: str) -> Path | None:
    """The socket file of a `unix:/…` embedder URL (None for an HTTP URL)."""
    return Path(url.removeprefix("unix:")) if url.startswith("unix:") else None


def run_embedder(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """Load the model, then serve until stopped: on `host:port` when given, else on the
    unix socket of `settings.embedder_url`."""
    embedder = get_embedder(settings.analysis.onnx_threads)
    options: dict[str, Any] = {"log_config": None, "access_log": False, "server_header": False}
    if port is not None:
        _log.info("embedder_started", host=host, port=port)
        uvicorn.run(embedder_app(embedder), host=host or "127.0.0.1", port=port, **options)
        return
    path = socket_path(settings.embedder_url)
    if path is None:
        raise ValueError("DIARIST_ANALYSIS__EMBEDDER_URL is an HTTP URL: pass --port to serve")
    make_socket_dir(path.parent)
    path.unlink(missing_ok=True)  # left by a process that was killed
    _log.info("embedder_started", socket=str(path))
    uvicorn.run(embedder_app(embedder, path), uds=str(path), **options)

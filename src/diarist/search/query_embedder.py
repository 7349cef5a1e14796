"""Query embeddings for API processes, which load no model: the local model through the
`diarist embedder` service, a remote model through the configured OpenAI-compatible endpoint.
Both speak the same protocol, so one client class serves both."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

import httpx
import structlog

from diarist.analysis import openai as analysis_openai
from diarist.config import OpenAISettings, Settings
from diarist.models.analysis import EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL, remote_model_name
from diarist.search.errors import ClientGone, SemanticSearchUnavailable

_log = structlog.get_logger("diarist.search")


# True once the client has gone away (Starlette's `Request.is_disconnected`).
Abandoned = Callable[[], Awaitable[bool]]


class Embeds(Protocol):
    async def embed(
        self, text: str, model: str, abandoned: Abandoned | None = None
    ) -> list[float]: ...


# Queries in flight to the local embedder per API process. The embedder runs the waiting ones
# together (up to 32), so more in flight buys nothing; kept-alive connections, never opened
# and closed per query (at 1,000 concurrent searches that churn cost 35 ms of API CPU and
# 15 ms of the embedder's per search). The others wait on a semaphore, within the deadline.
LOCAL_IN_FLIGHT = 16
# A query with less time than this left after its wait is not sent (a run of the model costs
# about 5 ms alone, 40 ms in a full batch).
MIN_BUDGET_S = 0.05


def _local_client(settings: Settings) -> analysis_openai.OpenAIClient:
    url = settings.embedder_url
    limits = httpx.Limits(
        max_connections=LOCAL_IN_FLIGHT, max_keepalive_connections=LOCAL_IN_FLIGHT
    )
    if url.startswith("unix:"):
        transport = httpx.AsyncHTTPTransport(uds=url.removeprefix("unix:"), limits=limits)
        url = "http://embedder"
    else:
        transport = httpx.AsyncHTTPTransport(limits=limits)
    local = OpenAISettings(
        base_url=url.rstrip("/") + "/v1",
        embedding_model=LOCAL_EMBEDDING_MODEL,
        embedding_dimensions=EMBEDDING_DIMENSIONS,
        timeout_s=settings.analysis.embedder_timeout_s,
        requests_per_minute=100_000,
    )
    return analysis_openai.OpenAIClient(local, transport=transport)


class QueryEmbedder:
    """Asks the embedder of the user's model (local service or remote endpoint) for a query's
    vector."""

    def __init__(self, settings: Settings) -> None:
        self._timeout_s = settings.analysis.embedder_timeout_s
        self._local = _local_client(settings)
        self._local_slots = asyncio.Semaphore(LOCAL_IN_FLIGHT)
        remote = settings.analysis.openai
        self._remote: tuple[str, analysis_openai.OpenAIClient] | None = None
        if remote.base_url and remote.embedding_model:
            self._remote = (
                remote_model_name(remote.embedding_model),
                analysis_openai.OpenAIClient(remote),
            )

    async def embed(self, text: str, model: str, abandoned: Abandoned | None = None) -> list[float]:
        """The vector of `text` under `model` (the user's effective embedding model). A query
        that waited for a slot is dropped if its client has gone meanwhile (`ClientGone`)."""
        slots: asyncio.Semaphore | None = None
        if model == LOCAL_EMBEDDING_MODEL:
            client, slots = self._local, self._local_slots
        elif self._remote is not None and self._remote[0] == model:
            client = self._remote[1]
        else:
            raise SemanticSearchUnavailable(f"No embedder is configured for {model}.")
        # The whole call, the wait for a slot or a remote provider's rate limiter included:
        # a search must not wait on it longer than on the local embedder.
        deadline = asyncio.get_running_loop().time() + self._timeout_s
        try:
            if slots is None:
                return (await client.embed([text], deadline))[0]
            async with asyncio.timeout_at(deadline):
                await slots.acquire()
            try:
                if abandoned is not None and await abandoned():
                    raise ClientGone()
                if deadline - asyncio.get_running_loop().time() < MIN_BUDGET_S:
                    raise TimeoutError  # too late to be answered: the embedder's time is spared
                return (await client.embed([text], deadline))[0]
            finally:
                slots.release()
        except (analysis_openai.ProviderError, TimeoutError) as exc:
            _log.warning("query_embedding_failed", model=model, reason=str(exc) or "timeout")
            raise SemanticSearchUnavailable(
                "The embedding service did not answer; try again, or use mode=keyword.",
                headers={"Retry-After": "1"},
            ) from None

    async def close(self) -> None:
        await self._local.close()
        if self._remote is not None:
            await self._remote[1].close()

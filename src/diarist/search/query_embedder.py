"""Query embeddings for API processes, which load no model: the local model through the
`diarist embedder` service, a remote model through the configured OpenAI-compatible endpoint.
Both speak the same protocol, so one client class serves both."""

from __future__ import annotations

import asyncio
from typing import Protocol

import httpx
import structlog

from diarist.analysis import openai as analysis_openai
from diarist.config import OpenAISettings, Settings
from diarist.models.analysis import EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL, remote_model_name
from diarist.search.errors import SemanticSearchUnavailable

_log = structlog.get_logger("diarist.search")


class Embeds(Protocol):
    async def embed(self, text: str, model: str) -> list[float]: ...


def _local_client(settings: Settings) -> analysis_openai.OpenAIClient:
    url = settings.embedder_url
    transport: httpx.AsyncBaseTransport | None = None
    if url.startswith("unix:"):
        transport = httpx.AsyncHTTPTransport(uds=url.removeprefix("unix:"))
        url = "http://embedder"
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
        remote = settings.analysis.openai
        self._remote: tuple[str, analysis_openai.OpenAIClient] | None = None
        if remote.base_url and remote.embedding_model:
            self._remote = (
                remote_model_name(remote.embedding_model),
                analysis_openai.OpenAIClient(remote),
            )

    async def embed(self, text: str, model: str) -> list[float]:
        """The vector of `text` under `model` (the user's effective embedding model)."""
        if model == LOCAL_EMBEDDING_MODEL:
            client = self._local
        elif self._remote is not None and self._remote[0] == model:
            client = self._remote[1]
        else:
            raise SemanticSearchUnavailable(f"No embedder is configured for {model}.")
        try:
            # The whole call, a remote provider's rate limiter included: a search must not
            # wait on it longer than on the local embedder.
            async with asyncio.timeout(self._timeout_s):
                return (await client.embed([text]))[0]
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

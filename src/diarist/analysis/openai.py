"""The optional `openai` provider: a short reflection on an entry from any OpenAI-compatible
chat endpoint. Diary text leaves the machine only for users who allowed it (see `consents`)."""

from __future__ import annotations

import asyncio
import base64
import sys
import time
from array import array
from collections import deque
from typing import Any

import httpx
import structlog

from diarist.accounts.preferences import REMOTE_PROVIDER as PROVIDER
from diarist.analysis.results import TaskResult
from diarist.config import OpenAISettings

_PROMPT = (
    "You help someone reflect on their own diary. In two or three warm, plain sentences, "
    "reflect back what this entry is about and how the writer seems to feel. Do not give advice "
    "unless asked; never diagnose."
)
_log = structlog.get_logger("diarist.analysis.openai")


class ProviderError(RuntimeError):
    """The remote provider failed (status, timeout, or an answer we cannot read)."""


def decode_embedding(embedding: Any) -> list[float]:
    """An embedding as the provider sent it: base64 float32 bytes (asked for: a quarter of the
    JSON and no float parsing), or a list of numbers from a provider that ignores the ask."""
    if isinstance(embedding, str):
        raw = base64.b64decode(embedding, validate=True)
        if len(raw) % 4:
            raise ValueError("not float32 bytes")
        return array("f", raw).tolist() if sys.byteorder == "little" else _swapped(raw)
    return [float(x) for x in embedding]


def _swapped(raw: bytes) -> list[float]:
    values = array("f", raw)
    values.byteswap()
    return values.tolist()


class _RateLimiter:
    """At most `per_minute` requests in any 60 s window, for this process."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            while self._sent and now - self._sent[0] > 60:
                self._sent.popleft()
            if len(self._sent) >= self.per_minute:
                await asyncio.sleep(60 - (now - self._sent[0]))
            self._sent.append(time.monotonic())


class OpenAIClient:
    def __init__(self, settings: OpenAISettings, transport: httpx.AsyncBaseTransport | None = None):
        if not settings.base_url:
            raise ValueError("the openai provider needs DIARIST_ANALYSIS__OPENAI__BASE_URL")
        self.settings = settings
        headers = {}
        if settings.api_key is not None:
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        self._client = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/") + "/",
            headers=headers,
            timeout=settings.timeout_s,
            transport=transport,
        )
        self._limiter = _RateLimiter(settings.requests_per_minute)

    async def _post(
        self, path: str, body: dict[str, Any], deadline: float | None = None
    ) -> tuple[dict[str, Any], httpx.Response]:
        """The provider's answer to `body`; by `deadline` (the loop's clock) when given, else
        within the configured timeout. The deadline cuts the wait for the rate limiter and is
        then httpx's own timeout: a request cancelled inside httpx can leave its pooled
        connection taken for good (seen under load: every later query waited out its
        deadline)."""
        if deadline is None:
            await self._limiter.wait()
            timeout: float | None = self.settings.timeout_s
        else:
            async with asyncio.timeout_at(deadline):
                await self._limiter.wait()
            timeout = max(deadline - asyncio.get_running_loop().time(), 0.001)
        try:
            response = await self._client.post(path, json=body, timeout=timeout)
        except httpx.HTTPError as exc:
            raise ProviderError(f"{type(exc).__name__} calling the provider") from None
        if response.status_code != 200:
            raise ProviderError(f"provider answered HTTP {response.status_code}")
        try:
            payload: dict[str, Any] = response.json()
        except ValueError:
            raise ProviderError("unreadable provider answer") from None
        return payload, response

    async def embed(self, texts: list[str], deadline: float | None = None) -> list[list[float]]:
        """Embeddings of `texts` (one request, by `deadline` if given, see `_post`); each
        checked for the configured dimensions."""
        model = self.settings.embedding_model
        if not model:
            raise ProviderError("no embedding model is configured")
        body = {"model": model, "input": texts, "encoding_format": "base64"}
        payload, _ = await self._post("embeddings", body, deadline)
        try:
            rows = sorted(payload["data"], key=lambda row: row["index"])
            vectors = [decode_embedding(row["embedding"]) for row in rows]
        except (KeyError, TypeError, ValueError):
            raise ProviderError("unreadable provider answer") from None
        if len(vectors) != len(texts) or any(
            len(v) != self.settings.embedding_dimensions for v in vectors
        ):
            raise ProviderError("the provider's embeddings do not have the configured size")
        return vectors

    async def reflect(self, text: str) -> TaskResult:
        """One chat completion; raises ProviderError on any failure (the job retries)."""
        started = time.perf_counter()
        body = {
            "model": self.settings.chat_model,
            "messages": [
                {"role": "system", "content": _PROMPT},
                {"role": "user", "content": text[:12_000]},
            ],
            "max_tokens": self.settings.max_output_tokens,
            "temperature": 0.3,
        }
        payload, response = await self._post("chat/completions", body)
        try:
            reflection = str(payload["choices"][0]["message"]["content"]).strip()
        except (KeyError, IndexError, TypeError):
            raise ProviderError("unreadable provider answer") from None
        usage = payload.get("usage") or {}
        info = {
            "provider": PROVIDER,
            "model": payload.get("model", self.settings.chat_model),
            "model_version": None,
            "processing_time_ms": round((time.perf_counter() - started) * 1000, 2),
            "tokens_used": usage.get("total_tokens"),
            "cost_usd": None,
            "request_id": payload.get("id") or response.headers.get("x-request-id"),
        }
        _log.info("reflection_received", tokens=usage.get("total_tokens"))
        return TaskResult("reflection", {"text": reflection}, None, info)

    async def transcribe(self, audio: bytes, file_name: str, media_type: str) -> tuple[str, str]:
        """Speech to text (`audio/transcriptions`, as OpenAI's Whisper endpoint): the text and
        the model that wrote it; raises ProviderError on any failure."""
        model = self.settings.transcription_model
        if not model:
            raise ProviderError("no transcription model is configured")
        await self._limiter.wait()
        try:
            response = await self._client.post(
                "audio/transcriptions",
                data={"model": model, "response_format": "json"},
                files={"file": (file_name, audio, media_type)},
            )
        except httpx.HTTPError as exc:
            raise ProviderError(f"{type(exc).__name__} calling the provider") from None
        if response.status_code != 200:
            raise ProviderError(f"provider answered HTTP {response.status_code}")
        try:
            text = response.json()["text"]
        except (ValueError, KeyError, TypeError):
            raise ProviderError("unreadable provider answer") from None
        if not isinstance(text, str):
            raise ProviderError("unreadable provider answer")
        _log.info("transcription_received", audio_bytes=len(audio))
        return text.strip(), model

    async def close(self) -> None:
        await self._client.aclose()

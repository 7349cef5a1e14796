"""What the driver sends: the request of each op, and a cell (one op at one concurrency, a
warm-up then a measured period) with its latencies, rate and errors."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from bench.dataset import BenchUser
from bench.generator import entry_title, journal_entry_text, search_words
from bench.load._http import Builder, HttpConnection, Request, format_request_head, send_requests
from bench.report import percentile

READ_OPS = ("timeline", "get", "search_keyword", "search_semantic", "search_hybrid")
# create comes last: it grows the data and queues analysis jobs.
ALL_OPS = (*READ_OPS, "create")
_WORDS = search_words()


def _generate_texts() -> list[str]:
    return [journal_entry_text(900_000_000 + n) for n in range(200)]


def create_request_builders() -> dict[str, Builder]:
    texts = _generate_texts()

    def build_timeline(_rng: random.Random, user: BenchUser) -> Request:
        return format_request_head("GET", "/api/v1/entries?limit=20", user.token), b"", 200

    def build_get(rng: random.Random, user: BenchUser) -> Request:
        path = f"/api/v1/entries/{rng.choice(user.entry_ids)}"
        return format_request_head("GET", path, user.token), b"", 200

    def make_search_builder(mode: str) -> Builder:
        def build(rng: random.Random, user: BenchUser) -> Request:
            path = f"/api/v1/search?q={quote(rng.choice(_WORDS))}&mode={mode}"
            return format_request_head("GET", path, user.token), b"", 200

        return build

    def build_create(rng: random.Random, user: BenchUser) -> Request:
        body = {
            "title": entry_title(rng.randrange(1_000_000)),
            "raw_data": {"text": rng.choice(texts)},
            "tags": rng.sample(user.tags, 2),
            "mood_rating": rng.randint(1, 10),
        }
        payload = json.dumps(body).encode()
        return format_request_head("POST", "/api/v1/entries", user.token, payload), payload, 201

    def build_me(_rng: random.Random, user: BenchUser) -> Request:
        return format_request_head("GET", "/api/v1/me", user.token), b"", 200

    def build_tags(_rng: random.Random, user: BenchUser) -> Request:
        return format_request_head("GET", "/api/v1/tags", user.token), b"", 200

    return {
        "me": build_me,
        "tags": build_tags,
        "timeline": build_timeline,
        "get": build_get,
        "search_keyword": make_search_builder("keyword"),
        "search_semantic": make_search_builder("semantic"),
        "search_hybrid": make_search_builder("hybrid"),
        "create": build_create,
    }


def find_skip_reason(port: int, build: Builder, user: BenchUser) -> str | None:
    """None if the op answers as expected; else why it is skipped (e.g. 422 for a mode)."""
    status, payload = send_requests(port, build, user, 1, seed=1)
    if status in {200, 201}:
        return None
    return f"HTTP {status}: {payload[:200].decode(errors='replace')}"


@dataclass
class CellResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    # Every request finished, warm-up included (for CPU time per request).
    finished: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


async def _run_client(
    port: int,
    build: Builder,
    users: list[BenchUser],
    seed: int,
    measure_from: float,
    stop_at: float,
    out: CellResult,
) -> None:
    rng = random.Random(seed)
    conn = HttpConnection(port)
    try:
        while (started := time.perf_counter()) < stop_at:
            head, body, expected = build(rng, rng.choice(users))
            try:
                status, _ = await asyncio.wait_for(conn.request(head, body), 30)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                status = 0
                out.statuses[type(exc).__name__] = out.statuses.get(type(exc).__name__, 0) + 1
                await conn.close()
            ended = time.perf_counter()
            out.finished += 1
            if started < measure_from or ended > stop_at:
                continue
            if status == expected:
                out.latencies_ms.append((ended - started) * 1000)
            else:
                out.errors += 1
                if status:
                    out.statuses[str(status)] = out.statuses.get(str(status), 0) + 1
    finally:
        await conn.close()


async def run_cell(
    port: int,
    build: Builder,
    users: list[BenchUser],
    concurrency: int,
    warmup_s: float,
    duration_s: float,
) -> dict[str, Any]:
    out = CellResult()
    now = time.perf_counter()
    measure_from, stop_at = now + warmup_s, now + warmup_s + duration_s
    await asyncio.gather(
        *(
            _run_client(port, build, users, 1_000 * concurrency + n, measure_from, stop_at, out)
            for n in range(concurrency)
        )
    )
    done = len(out.latencies_ms)
    cell: dict[str, Any] = {
        "rps": round((done + out.errors) / duration_s, 1),
        "requests": done + out.errors,
        "errors": out.errors,
        "finished_incl_warmup": out.finished,
    }
    if out.latencies_ms:
        cell |= {f"p{q}_ms": round(percentile(out.latencies_ms, q), 2) for q in (50, 95, 99)} | {
            "max_ms": round(max(out.latencies_ms), 2)
        }
    if out.statuses:
        cell["error_kinds"] = out.statuses
    return cell


def run_cell_sync(*args: Any) -> dict[str, Any]:
    runner: Any = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    result: dict[str, Any] = runner(run_cell(*args))
    return result

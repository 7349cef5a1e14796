"""Search quality and latency.

Quality: the hand-judged evaluation set in bench/data/search_eval.json (one person's journal,
queries with graded relevance) is written through the real services, analysed by the real
local models, and searched in each mode; nDCG@10 per mode and per kind of query.

Latency: users with 1,000 and 20,000 entries (synthetic clustered unit vectors; the other
users make the table realistic), searched as the application role through the repository:
wall time of the statement from the client and PostgreSQL's execution time (EXPLAIN ANALYZE),
for exact k-NN (what diarist runs) and for the HNSW index with iterative scans, with its
recall@10 against exact. Also the query embedder's round trip over its unix socket.

Writes bench/results/search-<timestamp>.json and bench/results/search-latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import uvicorn
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from bench.cluster import BenchCluster, bench_user, migrated_cluster
from bench.generator import journal_entry_text
from bench.report import machine, percentile, write_results
from diarist.analysis import service as analysis_service
from diarist.analysis.embedder_server import embedder_app
from diarist.analysis.embeddings import get_embedder
from diarist.analysis.local import get_local_analyzer
from diarist.config import AnalysisSettings
from diarist.db.engine import Database, PoolPlan, act_as, create_engine
from diarist.db.provision import libpq_url
from diarist.journal import service as entries_service
from diarist.journal.content import derive
from diarist.journal.repository import EntryFilters
from diarist.journal.schemas import EntryCreate
from diarist.models.analysis import EMBEDDING_DIMENSIONS as DIMENSIONS
from diarist.models.analysis import LOCAL_EMBEDDING_MODEL as MODEL_NAME
from diarist.search import repository as search_repo
from diarist.search import service as search_service
from diarist.search.query_embedder import Abandoned
from diarist.search.repository import Ranking
from diarist.search.schemas import Mode
from diarist.search.service import SearchRequest

EVAL_SET = Path(__file__).parent / "data" / "search_eval.json"
MODES: tuple[Mode, ...] = ("keyword", "semantic", "hybrid")
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


class InProcessEmbedder:
    """Query vectors from the model in this process (the quality run needs no service)."""

    async def embed(self, text: str, model: str, abandoned: Abandoned | None = None) -> list[float]:
        assert model == MODEL_NAME
        vector = await asyncio.to_thread(get_embedder().embed, [text])
        return [float(x) for x in vector[0]]


def ndcg_at_10(ranked: list[str], judged: dict[str, int]) -> float:
    def dcg(grades: list[int]) -> float:
        return float(sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades[:10])))

    ideal = dcg(sorted(judged.values(), reverse=True))
    return dcg([judged.get(key, 0) for key in ranked]) / ideal if ideal else 0.0


async def _write_eval_journal(
    database: Database, bench: BenchCluster, entries: list[dict[str, Any]]
) -> tuple[uuid.UUID, dict[uuid.UUID, str]]:
    user_id = await bench_user(database, bench.settings, "quality@example.org")
    keys: dict[uuid.UUID, str] = {}
    async with database.unit_of_work(user_id=user_id) as session:
        for entry in entries:
            data = EntryCreate(
                raw_data={"text": entry["text"]},
                title=entry["title"],
                tags=entry.get("tags") or None,
                entry_date=NOW - timedelta(days=entry["days_ago"]),
            )
            created, _ = await entries_service.create_entry(
                session, user_id, data, bench.settings.journal
            )
            keys[created.id] = entry["key"]
    analyzer = get_local_analyzer(1)
    for entry_id in keys:
        outcome = await analysis_service.analyze_entry(
            database, analyzer, AnalysisSettings(), entry_id, user_id, attempt=1
        )
        assert outcome.status == "completed", outcome
    return user_id, keys


async def quality(bench: BenchCluster) -> dict[str, Any]:
    evaluation = json.loads(EVAL_SET.read_text())
    engine = create_engine(bench.urls.app, bench.settings.db, PoolPlan(2, 0), application_name="q")
    database = Database(engine)
    embedder = InProcessEmbedder()
    scores: dict[Mode, list[float]] = defaultdict(list)
    by_kind: dict[tuple[str, Mode], list[float]] = defaultdict(list)
    try:
        user_id, keys = await _write_eval_journal(database, bench, evaluation["entries"])
        for query in evaluation["queries"]:
            for mode in MODES:
                request = SearchRequest(
                    query=query["q"], mode=mode, filters=EntryFilters(), limit=10, now=NOW
                )
                async with database.unit_of_work(user_id=user_id) as session:
                    result = await search_service.search(
                        session, bench.settings, embedder, user_id, request
                    )
                ranked = [keys[hit.id] for hit in result.hits]
                score = ndcg_at_10(ranked, query["relevant"])
                scores[mode].append(score)
                by_kind[(query["kind"], mode)].append(score)
    finally:
        await database.dispose()
    return {
        "eval_set": {
            "entries": len(evaluation["entries"]),
            "queries": len(evaluation["queries"]),
        },
        "ndcg_at_10": {mode: round(statistics.fmean(scores[mode]), 3) for mode in MODES},
        "ndcg_at_10_by_kind": {
            kind: {mode: round(statistics.fmean(by_kind[(kind, mode)]), 3) for mode in MODES}
            for kind in sorted({kind for kind, _ in by_kind})
        },
        "settings": bench.settings.search.model_dump(),
    }


# Synthetic vectors: each user writes about a few dozen themes; an entry is its theme's centre
# plus noise, normalised. Only plans and timings are measured with them, not meaning.
_CENTRES = 64


def _load_vectors(
    bench: BenchCluster, sizes: list[int], seed: int = 7
) -> tuple[list[uuid.UUID], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(_CENTRES, DIMENSIONS)).astype(np.float32)
    users = [uuid.uuid4() for _ in sizes]
    serial = 0
    with psycopg.connect(libpq_url(bench.urls.owner), autocommit=True) as conn:
        conn.execute("ALTER TABLE entries DISABLE TRIGGER USER")
        for user_id, count in zip(users, sizes, strict=True):
            conn.execute(
                # Never signs in: a stand-in for the sealed address and its index.
                "INSERT INTO users (id, email_sealed, email_index, name)"
                " VALUES (%s, sha256(%s::bytea), sha256(%s::bytea), 'Bulk')",
                (user_id, f"sealed:{user_id}".encode(), f"index:{user_id}".encode()),
            )
            with conn.cursor().copy(
                "COPY entries (user_id, raw_data, format, content, content_hash, entry_date,"
                " processing_status) FROM STDIN"
            ) as copy:
                for n in range(count):
                    raw_data = {"text": journal_entry_text(serial)}
                    serial += 1
                    derived = derive(raw_data)
                    copy.write_row((
                        user_id, json.dumps(raw_data), derived.format, derived.content,
                        derived.content_hash, NOW - timedelta(hours=n), "completed",
                    ))  # fmt: skip
            ids = [row[0] for row in conn.execute(
                "SELECT id FROM entries WHERE user_id = %s ORDER BY id", (user_id,)
            )]  # fmt: skip
            themes = rng.integers(0, _CENTRES, size=len(ids))
            vectors = centres[themes] + rng.normal(scale=0.6, size=(len(ids), DIMENSIONS))
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            with conn.cursor().copy(
                "COPY entry_embeddings (user_id, entry_id, model, dimensions, embedding,"
                " content_hash) FROM STDIN"
            ) as copy:
                for entry_id, vector in zip(ids, vectors, strict=True):
                    literal = "[" + ",".join(f"{x:.6f}" for x in vector) + "]"
                    copy.write_row((user_id, entry_id, MODEL_NAME, DIMENSIONS, literal, b"x"))
        conn.execute("ALTER TABLE entries ENABLE TRIGGER USER")
        conn.execute("VACUUM ANALYZE entries")
        conn.execute("VACUUM ANALYZE entry_embeddings")
    return users, centres


def _percentiles(samples: list[float]) -> dict[str, float]:
    return {f"p{q}_ms": round(percentile(samples, q), 2) for q in (50, 95)}


async def _timed(run: Any, repeats: int) -> tuple[list[float], Any]:
    samples: list[float] = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = await run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, result


async def _execution_ms(session: AsyncSession, run: Any) -> float:
    """PostgreSQL's own execution time of the statement `run` sends (EXPLAIN ANALYZE)."""
    captured: list[tuple[str, Any]] = []
    connection = await session.connection()
    sync_engine = connection.engine.sync_engine

    def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(sync_engine, "before_cursor_execute", capture)
    try:
        await run()
    finally:
        event.remove(sync_engine, "before_cursor_execute", capture)
    statement, parameters = captured[-1]
    driver = await connection.get_raw_connection()
    cursor = driver.driver_connection.cursor()  # type: ignore[union-attr]
    await cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
    row = await cursor.fetchone()
    return float(row[0][0]["Execution Time"])


async def latency(bench: BenchCluster, sizes: dict[str, int], repeats: int) -> list[dict[str, Any]]:
    others = [1000] * 30
    users, centres = _load_vectors(bench, [*sizes.values(), *others])
    engine = create_engine(bench.urls.app, bench.settings.db, PoolPlan(2, 0), application_name="l")
    database = Database(engine)
    rng = np.random.default_rng(11)
    results: list[dict[str, Any]] = []
    try:
        for size, user_id in zip(sizes.values(), users, strict=False):
            # A query about one of the themes, as a real query is about something.
            query = centres[rng.integers(0, _CENTRES)] + rng.normal(scale=0.6, size=DIMENSIONS)
            query = (query / np.linalg.norm(query)).tolist()
            exact = Ranking(
                keyword_query=None, headline_query="garden",
                vector=query, model=MODEL_NAME, min_similarity=-1,
            )  # fmt: skip
            hybrid = Ranking(
                keyword_query="sister dinner", headline_query="sister dinner",
                vector=query, model=MODEL_NAME, min_similarity=-1,
            )  # fmt: skip
            async with database.unit_of_work(user_id=user_id) as session:
                await act_as(session, user_id)
                for op, ranking, limit in (("semantic", exact, 10), ("hybrid", hybrid, 20)):

                    async def run(
                        r: Ranking = ranking, n: int = limit, u: uuid.UUID = user_id
                    ) -> Any:
                        return await search_repo.ranked_search(session, u, r, EntryFilters(), n)

                    await run()  # warm
                    samples, hits = await _timed(run, repeats)
                    results.append(
                        {
                            "op": f"{op} search (exact k-NN), top {limit}",
                            "user_entries": size,
                            **_percentiles(samples),
                            "sql_execution_ms": round(await _execution_ms(session, run), 2),
                        }
                    )
                    if op == "semantic":
                        exact_ids = {hit.id for hit in hits}
                approximate = replace(exact, approximate=True)

                async def hnsw(u: uuid.UUID = user_id, r: Ranking = approximate) -> Any:
                    return await search_repo.ranked_search(session, u, r, EntryFilters(), 10)

                await hnsw()
                samples, found = await _timed(hnsw, repeats)
                results.append(
                    {
                        "op": "semantic search (HNSW, iterative scan, ef_search 100), top 10",
                        "user_entries": size,
                        **_percentiles(samples),
                        "sql_execution_ms": round(await _execution_ms(session, hnsw), 2),
                        "recall_at_10_vs_exact": len({h.id for h in found} & exact_ids) / 10,
                    }
                )
    finally:
        await database.dispose()
    return results


def embedder_round_trip(repeats: int) -> dict[str, Any]:
    """The query embedder over its unix socket, as an API process calls it (no cache hits)."""
    with tempfile.TemporaryDirectory(prefix="diarist-embedder-") as directory:
        path = Path(directory) / "embedder.sock"
        config = uvicorn.Config(
            embedder_app(get_embedder(), path), uds=str(path), log_level="error"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        samples = []
        transport = httpx.HTTPTransport(uds=str(path))
        with httpx.Client(transport=transport, base_url="http://embedder") as client:
            for n in range(repeats):
                body = {"model": MODEL_NAME, "input": f"times I felt lonely at work {n}"}
                started = time.perf_counter()
                client.post("/v1/embeddings", json=body).raise_for_status()
                samples.append((time.perf_counter() - started) * 1000)
        server.should_exit = True
        thread.join(10)
    return {"op": "query embedding (embedder service, unix socket)", **_percentiles(samples)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    with migrated_cluster() as bench:
        report: dict[str, Any] = {"machine": machine(), "quality": asyncio.run(quality(bench))}
        if not args.skip_latency:
            sizes = {"1k": 1_000, "20k": 20_000}
            report["latency"] = asyncio.run(latency(bench, sizes, args.repeats))
            report["latency"].append(embedder_round_trip(args.repeats))
            report["data"] = {
                "vectors": sum(sizes.values()) + 30 * 1000,
                "users": len(sizes) + 30,
                "note": "synthetic clustered 384-d unit vectors for the latency runs",
            }
    print(write_results(report, "search", "search-latest"))


if __name__ == "__main__":
    main()

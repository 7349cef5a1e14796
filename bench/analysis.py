"""Analysis throughput: N entries written, one `diarist worker` process drains the queue.

Reports entries analysed per second, the backlog drain time, and the resident memory of the
worker process with its models loaded. Then fairness: 4 users post 1 MiB entries (a burst of
`--large` each) while 20 users post ordinary ones one by one; the ordinary entries' analysis
latency (written -> analysed) and the worker's peak memory. Writes
bench/results/analysis-<timestamp>.json and bench/results/analysis-latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid

import psutil
import psycopg
from sqlalchemy.engine import URL

from bench.cluster import bench_user, migrated_cluster
from bench.generator import entry_text
from bench.report import machine, write_results
from diarist.config import Settings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls, libpq_url
from diarist.journal import service as entries_service
from diarist.journal.schemas import EntryCreate


async def write_entries(app_url: URL, settings: Settings, count: int) -> None:
    """One user and `count` entries, through the real services (analysis queued with each)."""
    engine = create_engine(app_url, settings.db, PoolPlan(2, 0), application_name="bench")
    database = Database(engine)
    try:
        user_id = await bench_user(database, settings, "bench@example.org")
        for start in range(0, count, 100):
            async with database.unit_of_work(user_id=user_id) as session:
                for n in range(start, min(count, start + 100)):
                    entry = EntryCreate(raw_data={"text": entry_text(n)})
                    await entries_service.create_entry(session, user_id, entry, settings.journal)
    finally:
        await database.dispose()


LARGE_CHARS = 1024 * 1024 - 4096


def _large_text(seed: int) -> str:
    """About 1 MiB of diary text (the entry size limit's worth)."""
    parts: list[str] = []
    length, n = 0, seed * 10_000
    while length < LARGE_CHARS:
        part = entry_text(n)
        parts.append(part)
        length += len(part) + 2
        n += 1
    return "\n\n".join(parts)[:LARGE_CHARS]


async def _users(
    database: Database, settings: Settings, prefix: str, count: int
) -> list[uuid.UUID]:
    return [await bench_user(database, settings, f"{prefix}{n}@example.org") for n in range(count)]


async def _create(
    database: Database, settings: Settings, user_id: uuid.UUID, text: str
) -> tuple[uuid.UUID, float]:
    async with database.unit_of_work(user_id=user_id) as session:
        entry, _ = await entries_service.create_entry(
            session, user_id, EntryCreate(raw_data={"text": text}), settings.journal
        )
    return entry.id, time.perf_counter()


async def fairness(
    urls: DatabaseUrls, settings: Settings, worker: psutil.Popen, large_each: int, ordinary: int
) -> dict[str, object]:
    """4 users' bursts of 1 MiB entries, then 20 users' ordinary entries one every 0.5 s
    while the worker drains; each ordinary entry's latency from write to analysed."""
    engine = create_engine(urls.app, settings.db, PoolPlan(4, 0), application_name="bench")
    database = Database(engine)
    peak_rss = 0
    try:
        heavy = await _users(database, settings, "large", 4)
        light = await _users(database, settings, "ordinary", 20)
        for user_id in heavy:
            for n in range(large_each):
                await _create(database, settings, user_id, _large_text(n))
        written: dict[uuid.UUID, float] = {}
        analysed: dict[uuid.UUID, float] = {}
        started = time.perf_counter()
        with psycopg.connect(libpq_url(urls.owner), autocommit=True) as conn:
            while len(analysed) < ordinary:
                if len(written) < ordinary and time.perf_counter() - started > len(written) * 0.5:
                    n = len(written)
                    entry_id, at = await _create(
                        database, settings, light[n % len(light)], entry_text(50_000 + n)
                    )
                    written[entry_id] = at
                peak_rss = max(peak_rss, _rss(worker))
                done = conn.execute(
                    "SELECT id FROM entries WHERE id = ANY(%s) AND processing_status = 'completed'",
                    (list(written),),
                ).fetchall()
                now = time.perf_counter()
                for (entry_id,) in done:
                    analysed.setdefault(entry_id, now)
                if now - started > 900:
                    break
                await asyncio.sleep(0.1)
            left = conn.execute(
                "SELECT count(*) FROM entries WHERE processing_status <> 'completed'"
            ).fetchone()
    finally:
        await database.dispose()
    latencies = sorted(analysed[e] - written[e] for e in analysed)
    return {
        "op": f"fairness: 4 users x {large_each} entries of 1 MiB, 20 users x 1 ordinary entry"
        f" every 0.5 s ({ordinary} in all)",
        "ordinary_analysed": len(latencies),
        "ordinary_latency_p50_s": round(latencies[len(latencies) // 2], 2) if latencies else None,
        "ordinary_latency_p95_s": round(latencies[int(len(latencies) * 0.95) - 1], 2)
        if latencies
        else None,
        "ordinary_latency_max_s": round(latencies[-1], 2) if latencies else None,
        "large_entries_left_when_done": left[0] if left else None,
        "worker_peak_rss_mb": round(peak_rss / 2**20, 1),
    }


def _rss(process: psutil.Popen) -> int:
    """The worker's resident memory with its children's (the embedder thread pool is in it)."""
    try:
        return int(process.memory_info().rss) + sum(
            int(child.memory_info().rss) for child in process.children(recursive=True)
        )
    except psutil.NoSuchProcess:
        return 0


def _secret(settings: Settings) -> str:
    assert settings.secret_key is not None, "the bench cluster sets a secret key"
    return settings.secret_key.get_secret_value()


def run(count: int, concurrency: int, large_each: int, ordinary: int) -> dict[str, object]:
    with migrated_cluster() as bench:
        urls = bench.urls
        asyncio.run(write_entries(urls.app, bench.settings, count))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DIARIST_")},
            "DIARIST_DATABASE_URL": urls.app.render_as_string(hide_password=False),
            "DIARIST_DB__SYSTEM_URL": urls.system.render_as_string(hide_password=False),
            "DIARIST_SECRET_KEY": _secret(bench.settings),
            "DIARIST_DATA_DIR": str(bench.data_dir),
            "DIARIST_WORKER__QUEUES": '["analysis"]',
            "DIARIST_WORKER__CONCURRENCY": str(concurrency),
            "DIARIST_LOG__LEVEL": "WARNING",
        }
        started = time.perf_counter()
        worker = psutil.Popen([sys.executable, "-m", "diarist", "worker"], env=env)
        peak_rss = 0
        first_done: float | None = None
        try:
            with psycopg.connect(libpq_url(urls.owner), autocommit=True) as conn:
                while True:
                    peak_rss = max(peak_rss, worker.memory_info().rss)
                    row = conn.execute(
                        "SELECT count(*) FILTER (WHERE processing_status = 'completed'),"
                        " count(*) FROM entries"
                    ).fetchone()
                    assert row is not None
                    done, total = row
                    if done and first_done is None:
                        first_done = time.perf_counter()
                    if done == total:
                        break
                    time.sleep(0.2)
            finished = time.perf_counter()
            fair = (
                asyncio.run(fairness(urls, bench.settings, worker, large_each, ordinary))
                if large_each
                else None
            )
        finally:
            worker.terminate()
            worker.wait(30)
    assert first_done is not None
    steady = count / max(finished - first_done, 1e-9)
    return {
        "machine": machine(),
        "data": {"users": 1, "entries": count, "words_per_entry": "80-250"},
        "results": [
            {
                "op": f"analyse entries (one worker, concurrency {concurrency}, onnx threads 1)",
                "entries_per_s": round(count / (finished - started), 2),
                "entries_per_s_after_model_load": round(steady, 2),
                "drain_s": round(finished - started, 1),
                "worker_rss_mb": round(peak_rss / 2**20, 1),
            },
            *([fair] if fair else []),
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--large", type=int, default=10, help="1 MiB entries per large user")
    parser.add_argument("--ordinary", type=int, default=100, help="ordinary entries in all")
    args = parser.parse_args()
    results = run(args.entries, args.concurrency, args.large, args.ordinary)
    print(write_results(results, "analysis", "analysis-latest"))


if __name__ == "__main__":
    main()

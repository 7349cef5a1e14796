"""Analysis throughput: N entries written, one `diarist worker` process drains the queue.

Reports entries analysed per second, the backlog drain time, and the resident memory of the
worker process with its models loaded. Writes bench/results/analysis-<timestamp>.json and
bench/results/analysis-latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

import psutil
import psycopg
from sqlalchemy.engine import URL

from bench.cluster import bench_user, migrated_cluster
from bench.generator import entry_text
from bench.report import machine, write_results
from diarist.config import Settings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import libpq_url
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


def _secret(settings: Settings) -> str:
    assert settings.secret_key is not None, "the bench cluster sets a secret key"
    return settings.secret_key.get_secret_value()


def run(count: int, concurrency: int) -> dict[str, object]:
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
            }
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    print(write_results(run(args.entries, args.concurrency), "analysis", "analysis-latest"))


if __name__ == "__main__":
    main()

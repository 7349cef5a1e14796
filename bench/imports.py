"""The import bench: a generated Day One export of N text entries imported into a fresh
journal, then imported again (every entry unchanged). Reports entries per second and the
process's peak RSS, to bench/results/imports-<timestamp>.json and imports-latest.json.

    python -m bench.imports --entries 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.cluster import bench_user, migrated_cluster
from bench.report import machine, write_results
from diarist.config import JournalSettings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.imports import service as imports_service

_LIMITS = JournalSettings()
_WORDS = [
    "morning", "walk", "rain", "coffee", "friend", "garden", "train", "river", "book", "quiet",
    "tired", "glad", "work", "evening", "letter", "music", "sea", "market", "bread", "child",
]  # fmt: skip


def write_export(path: Path, entries: int, seed: int = 7) -> None:
    """A Day One export of `entries` entries of 40-200 words, written as a stream."""
    rng = random.Random(seed)
    with path.open("w") as out:
        out.write('{"metadata": {"version": "1.0"}, "entries": [\n')
        for number in range(entries):
            entry: dict[str, Any] = {
                "uuid": uuid.UUID(int=rng.getrandbits(128)).hex.upper(),
                "creationDate": f"20{10 + number % 15}-0{1 + number % 9}-1{number % 9}T08:00:00Z",
                "timeZone": "Europe/Berlin",
                "text": " ".join(rng.choices(_WORDS, k=rng.randint(40, 200))),
                "tags": rng.sample(_WORDS, k=2),
                "starred": number % 10 == 0,
                "weather": {"temperatureCelsius": rng.randint(-5, 30)},
            }
            out.write(("," if number else "") + json.dumps(entry) + "\n")
        out.write("]}\n")


async def _timed_import(database: Database, user_id: uuid.UUID, path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    report = await imports_service.import_file(
        database, user_id, "dayone", path, _LIMITS, max_file_bytes=1 << 40
    )
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "entries_per_s": round(report.read / seconds, 1),
        "created": report.created,
        "unchanged": report.unchanged,
        "failed": report.failed,
    }


def run(entries: int) -> dict[str, Any]:
    with migrated_cluster() as bench, tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "Bench.json"
        write_export(export, entries)

        async def main() -> dict[str, Any]:
            engine = create_engine(bench.urls.app, bench.settings.db, PoolPlan(2, 0),
                                   application_name="bench-imports")  # fmt: skip
            database = Database(engine)
            try:
                user_id = await bench_user(database, bench.settings, "import@example.org")
                first = await _timed_import(database, user_id, export)
                again = await _timed_import(database, user_id, export)
            finally:
                await database.dispose()
            return {"first": first, "again": again}

        cells = asyncio.run(main())
        return {
            "machine": machine(),
            "entries": entries,
            "file_mb": round(export.stat().st_size / 1e6, 1),
            "import": cells["first"],
            "reimport_unchanged": cells["again"],
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    print(write_results(run(args.entries), "imports", "imports-latest"))


if __name__ == "__main__":
    main()

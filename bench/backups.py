"""Backup, verify and restore of a journal dataset on a throwaway embedded PostgreSQL
(`python -m bench.backups --entries N`; part of `make bench`).

The dataset is bench.dataset's (entries with their tags and 384-d embeddings, COPYed into
diarist's own schema). Measured: `create_backup` (the manifest's counts and checksums, then
pg_dump -Fc), `verify_backup` (SHA-256, restore into a scratch database, checksums again) and
`restore_backup` into a new database — until it is checked and usable, and until its embedding
index is built too (CONCURRENTLY, after); the floor in the same run is a bare `pg_dump -Fc` of the
same database with the same compression. Targets (issue "Nothing lost, ever"): for 1 M
entries, backup ≤ 2 min and restore ≤ 5 min. Writes bench/results/backups-<time>.json and
backups-latest.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.cluster import migrated_cluster
from bench.dataset import DatasetSpec, load_dataset
from bench.report import machine, write_results
from diarist.db.backups import USABLE, create_backup, restore_backup, verify_backup
from diarist.db.embedded import SUPERUSER, binaries_dir
from diarist.db.provision import libpq_url


def _quiet(_message: str) -> None:
    """No progress output in the bench."""


def _measure(entries: int) -> dict[str, Any]:
    users = 10
    heavy = min(20_000, entries // 5)
    spec = DatasetSpec(users, (entries - heavy) // users, heavy)
    with migrated_cluster() as cluster:
        settings = cluster.settings
        owner = libpq_url(cluster.urls.owner)
        started = time.perf_counter()
        load_dataset(owner, spec, settings)
        loaded_s = time.perf_counter() - started
        superuser = cluster.urls.owner.set(username=SUPERUSER)
        with tempfile.TemporaryDirectory() as scratch:
            floor_file = Path(scratch) / "floor.dump"
            started = time.perf_counter()
            subprocess.run(
                [str(binaries_dir() / "pg_dump"), "--format=custom", f"--file={floor_file}",
                 f"--compress={settings.backups.compress}", f"--dbname={owner}"],
                check=True,
            )  # fmt: skip
            floor_s = time.perf_counter() - started
        started = time.perf_counter()
        dump = create_backup(settings, cluster.urls, _quiet)
        backup_s = time.perf_counter() - started
        started = time.perf_counter()
        verified = verify_backup(settings, superuser, dump, _quiet)
        verify_s = time.perf_counter() - started
        started = time.perf_counter()
        usable_at: list[float] = []

        def note_usable(message: str) -> None:
            if message == USABLE:
                usable_at.append(time.perf_counter() - started)

        restore_backup(settings, superuser, dump, "diarist_restored", note_usable)
        restore_s = time.perf_counter() - started
        size = dump.stat().st_size
    return {
        "entries": spec.total_entries,
        "load_s": round(loaded_s, 1),
        "dump_bytes": size,
        "backup_s": round(backup_s, 1),
        "floor_pg_dump_s": round(floor_s, 1),
        "backup_over_floor": round(backup_s / floor_s, 2),
        "verify_s": round(verify_s, 1),
        "verified": verified.ok,
        # Checked and usable (serve can start on it); the embedding index is built after.
        "restore_usable_s": round(usable_at[0], 1) if usable_at else None,
        "restore_s": round(restore_s, 1),
        "restore_memory_mb": settings.backups.restore_memory_mb,
        "compress": settings.backups.compress,
        "targets_at_1m": {"backup_s": 120, "restore_usable_s": 300},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    result = _measure(args.entries)
    report = {"bench": "backups", "machine": machine(), "load_average_at_start": load, **result}
    print(write_results(report, "backups", "backups-latest"))


if __name__ == "__main__":
    main()

"""One load run: the server started on a fresh data dir, the dataset loaded, each op probed,
every op x concurrency cell measured, optionally the data grown for the last latency cells."""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench.cluster import cluster_conninfo
from bench.dataset import BenchUser, DatasetSpec, load_dataset
from bench.load._floor import probe_op
from bench.load._http import Builder
from bench.load._processes import ProcessMonitor, compute_cpu_per_request
from bench.load._results import build_result_row, describe_machine
from bench.load._scenarios import (
    ALL_OPS,
    create_request_builders,
    find_skip_reason,
    run_cell_sync,
)
from bench.load._server import find_free_port, start_server, stop_server, wait_until_ready
from bench.load._throughput_floors import add_floor_ratios, measure_floors
from bench.load._wrk import run_cell_wrk, wrk_path
from diarist.config import DatabaseSettings, Settings
from diarist.db.embedded import SUPERUSER


@dataclass(frozen=True)
class Size:
    spec: DatasetSpec
    warmup_s: float
    duration_s: float
    concurrency: tuple[int, ...]
    # (op, concurrency) cells to leave out, to keep the small run short.
    skip: frozenset[tuple[str, int]] = frozenset()
    # Then grow the data to this many entries for the latency cells (0: no such phase).
    grow_to: int = 0


SIZES = {
    "small": Size(DatasetSpec(10, 200), warmup_s=2, duration_s=8, concurrency=(1, 32, 256, 1_000)),
    "large": Size(
        DatasetSpec(100, 1_000),
        warmup_s=5,
        duration_s=25,
        concurrency=(1, 32, 256, 1_000),
        grow_to=1_000_000,
    ),
}


def count_queued_jobs(owner: str) -> int:
    with psycopg.connect(owner) as conn:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
        ).fetchone()
    return int(row[0]) if row else 0


def run_load_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    size = SIZES[args.size]
    spec = size.spec
    warmup = args.warmup if args.warmup is not None else size.warmup_s
    duration = args.duration if args.duration is not None else size.duration_s
    concurrency = tuple(args.concurrency or size.concurrency)
    ops = [op for op in ALL_OPS if op in (args.ops or ALL_OPS)]
    db = DatabaseSettings()
    run_cell = run_cell_wrk if wrk_path() and not args.python_driver else run_cell_sync
    driver = "wrk" if run_cell is run_cell_wrk else "python"
    notes: list[str] = []
    if driver == "python":
        notes.append("wrk not found (apt-get install wrk): cells driven by the Python client")
    floors_rps: dict[str, dict[int, dict[str, Any]]] = {}
    results: list[dict[str, Any]] = []
    million: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="diarist-load-") as tmp:
        data_dir = Path(tmp)
        port = find_free_port()
        server = start_server(data_dir, port, args.workers)
        try:
            wait_until_ready(server, port)
            superuser = cluster_conninfo(data_dir, SUPERUSER)
            owner = cluster_conninfo(data_dir, db.owner_role)
            app = cluster_conninfo(data_dir, db.app_role)
            info = describe_machine(superuser)
            print(f"loading {spec.total_entries} entries ...", flush=True)
            settings = Settings(data_dir=data_dir)
            users, report = load_dataset(owner, spec, settings)
            print(json.dumps(report.as_dict()), flush=True)
            monitor = ProcessMonitor(server.pid, data_dir)
            monitor.sample()
            build = create_request_builders()
            normal = next(u for u in users if not u.heavy)
            heavy = next((u for u in users if u.heavy), normal)
            floors: dict[str, dict[str, Any]] = {}
            skipped: dict[str, str] = {}

            def floor_of(op: str, user: BenchUser) -> dict[str, Any]:
                return probe_op(port, build[op], user, data_dir, superuser, app)

            # Nothing loaded needs analysis; creates (probes and cells) queue it. The worker
            # stays paused until the end, so that analysis competes with no cell.
            paused = monitor.pause_job_worker(True)
            notes.append(
                f"the job worker ({paused} process) was paused (SIGSTOP) from the end of the"
                " load to the end of the last cell: the read cells saw an idle worker and the"
                " creates no competing analysis; each create queued its analysis job as usual"
            )
            try:
                for op in ops:
                    reason = find_skip_reason(port, build[op], normal)
                    if reason:
                        skipped[op] = reason
                        print(f"{op}: skipped ({reason})", flush=True)
                        continue
                    if args.probe:
                        floors[op] = {
                            "user": floor_of(op, normal),
                            "heavy_user": floor_of(op, heavy),
                        }
                        print(f"{op}: {json.dumps(floors[op])}", flush=True)
                for op in ops:
                    if op in skipped:
                        results.append({"op": op, "skipped": skipped[op]})
                        continue
                    for c in concurrency:
                        if (op, c) in size.skip:
                            continue
                        before = monitor.cpu_seconds()
                        cell = run_cell(port, build[op], users, c, warmup, duration)
                        cell["cpu_ms_per_request"] = compute_cpu_per_request(
                            before, monitor.cpu_seconds(), cell["finished_incl_warmup"]
                        )
                        monitor.sample()
                        results.append(build_result_row(op, c, cell, floors.get(op), "base"))
                        print(json.dumps(results[-1]), flush=True)
                if args.floors:
                    print("floors: hello world and the minimal psycopg page ...", flush=True)
                    floors_rps = measure_floors(
                        run_cell, users, concurrency, warmup, duration, args.workers, owner,
                        data_dir / "floors.log",
                    )  # fmt: skip
                    add_floor_ratios(results, floors_rps)
                    print(json.dumps(floors_rps), flush=True)
                grow_to = size.grow_to if args.grow_to is None else args.grow_to
                if grow_to:
                    million = measure_grown_data(
                        args,
                        grow_to,
                        spec,
                        users,
                        (owner, settings),
                        port,
                        build,
                        skipped,
                        monitor,
                        floor_of,
                    )
                    results += million.pop("results")
                    for op, floor in million.pop("floors").items():
                        floors[f"{op}@{grow_to}"] = floor
            finally:
                queued = count_queued_jobs(owner)
                monitor.pause_job_worker(False)
                notes.append(f"{queued} analysis jobs were queued when the worker resumed")
            if queued and args.analyse_s > 0:
                # Let the worker load its models and analyse, to report its memory.
                deadline = time.monotonic() + args.analyse_s
                while time.monotonic() < deadline:
                    monitor.sample()
                    time.sleep(1)
                notes.append(
                    f"the job worker then analysed for {args.analyse_s:.0f} s (models loaded)"
                    " before the last memory sample"
                )
        finally:
            stop_server(server)
            if args.keep_log:
                for name in ("serve.log", "postgresql.log"):
                    with contextlib.suppress(OSError):
                        (args.keep_log / name).write_bytes((data_dir / name).read_bytes())
    return {
        "machine": info,
        "data": {
            "users": spec.users,
            "entries": spec.users * spec.entries_per_user,
            "heavy_user_entries": spec.heavy_entries,
            "entries_per_user": spec.entries_per_user,
            "total_entries": spec.total_entries,
            "grown": million,
        },
        "load": report.as_dict(),
        "settings": {
            "size": args.size,
            "server": f"diarist serve --workers {args.workers} (embedded PostgreSQL, defaults)",
            "warmup_s": warmup,
            "duration_s": duration,
            "driver": (
                "wrk, one thread, requests from a Lua table of 2,000 built per cell"
                if driver == "wrk"
                else "asyncio + uvloop, minimal HTTP/1.1 keep-alive client, same machine"
            ),
            "users_per_request": "uniformly random over all users (heavy user included)",
        },
        "results": results,
        "floors": floors_rps,
        "sql": floors,
        "memory": monitor.report(),
        "notes": notes,
    }


def measure_grown_data(
    args: argparse.Namespace,
    grow_to: int,
    spec: DatasetSpec,
    users: list[BenchUser],
    server: tuple[str, Settings],
    port: int,
    build: dict[str, Builder],
    skipped: dict[str, str],
    monitor: ProcessMonitor,
    floor_of: Callable[[str, BenchUser], dict[str, Any]],
) -> dict[str, Any]:
    """Grow the data to `grow_to` entries (users of 1,000 entries), then latency at
    concurrency 1 for timeline, keyword and semantic search. `server`: the owner role's
    conninfo and the server's settings."""
    owner, settings = server
    with psycopg.connect(owner) as conn:
        row = conn.execute("SELECT count(*) FROM entries").fetchone()
    have = int(row[0]) if row else 0
    extra = max(0, (grow_to - have) // 1_000)
    more = DatasetSpec(extra, 1_000, 0, spec.seed, spec.users + 1)
    print(f"growing to {grow_to} entries: {extra} users x 1,000 ...", flush=True)
    added, report = load_dataset(owner, more, settings)
    everyone = users + added
    results = []
    floors: dict[str, Any] = {}
    heavy = next((u for u in users if u.heavy), users[0])
    for op in ("timeline", "search_keyword", "search_semantic"):
        if op in skipped:
            continue
        if args.probe:
            floors[op] = {"user": floor_of(op, added[0]), "heavy_user": floor_of(op, heavy)}
        cell = run_cell_sync(port, build[op], everyone, 1, args.warmup or 5, args.million_s)
        monitor.sample()
        label = "1M" if grow_to == 1_000_000 else f"{grow_to} entries"
        results.append(build_result_row(op, 1, cell, floors.get(op), label))
        print(json.dumps(results[-1]), flush=True)
    return {"load": report.as_dict(), "users": len(everyone), "results": results, "floors": floors}

"""The floors of a load run, measured in the same run on the same data and cores: the bare
ASGI hello world and the minimal psycopg handler of the newest-20 page (`_floor_apps`), served
like diarist's API; each diarist cell is then also reported as a ratio to them."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.dataset import BenchUser
from bench.load._http import HOST, Builder, Request
from bench.load._server import find_free_port, stop_server, wait_until_ready

FLOORS = ("hello", "page")
CellRunner = Callable[[int, Builder, list[BenchUser], int, float, float], dict[str, Any]]


def _build_hello(_rng: random.Random, _user: BenchUser) -> Request:
    return f"GET / HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode(), b"", 200


def _build_page(_rng: random.Random, user: BenchUser) -> Request:
    return f"GET /page/{user.id} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode(), b"", 200


_BUILDERS: dict[str, Builder] = {"hello": _build_hello, "page": _build_page}


def _start_floor(app: str, port: int, workers: int, conninfo: str, log: Path) -> Any:
    env = dict(os.environ, DIARIST_FLOOR_CONNINFO=conninfo)
    return subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", f"bench.load._floor_apps:{app}",
            "--host", HOST, "--port", str(port), "--workers", str(workers),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log",
            "--log-level", "warning",
        ],
        env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def measure_floors(
    run_cell: CellRunner,
    users: list[BenchUser],
    concurrency: tuple[int, ...],
    warmup_s: float,
    duration_s: float,
    workers: int,
    conninfo: str,
    log: Path,
) -> dict[str, dict[int, dict[str, Any]]]:
    """Each floor's cell at each concurrency, measured like diarist's cells."""
    floors: dict[str, dict[int, dict[str, Any]]] = {}
    for app in FLOORS:
        port = find_free_port()
        server = _start_floor(app, port, workers, conninfo, log)
        try:
            path = "/" if app == "hello" else f"/page/{users[0].id}"
            wait_until_ready(server, port, timeout_s=60, path=path)
            floors[app] = {
                c: run_cell(port, _BUILDERS[app], users, c, warmup_s, duration_s)
                for c in concurrency
            }
        finally:
            stop_server(server)
    return floors


def add_floor_ratios(
    results: list[dict[str, Any]], floors: dict[str, dict[int, dict[str, Any]]]
) -> None:
    """Each measured diarist cell's requests/s as a share of each floor's at its concurrency."""
    for row in results:
        c = row.get("concurrency")
        for app, cells in floors.items():
            floor = cells.get(c) if isinstance(c, int) else None
            if floor and floor.get("rps") and row.get("rps") is not None:
                row[f"ratio_to_{app}_floor"] = round(row["rps"] / floor["rps"], 3)

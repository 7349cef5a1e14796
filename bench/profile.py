"""Where an API worker's CPU goes, by layer: `diarist serve --workers 1` on a loaded dataset,
`wrk` drives one op at a time while `py-spy` samples the API process; each sample's stack is
attributed to the innermost layer it passes through (our code, the driver, SQLAlchemy,
validation, FastAPI/Starlette, the ASGI server, logging ...).

    python -m bench.profile [--ops timeline get ...] [--seconds 15] [--connections 8]

Writes bench/results/profile-latest.json and prints a table per op. Needs `wrk` (Debian:
`apt-get install wrk`) and `py-spy` (PyPI, in the dev extra).
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.cluster import cluster_conninfo
from bench.dataset import BenchUser, DatasetSpec, load_dataset
from bench.load._processes import list_server_processes
from bench.load._scenarios import create_request_builders
from bench.load._server import find_free_port, start_server, stop_server, wait_until_ready
from bench.load._wrk import run_wrk, write_script
from bench.report import machine, write_results
from diarist.config import DatabaseSettings, Settings

# (layer, how a frame of it starts in py-spy's raw format: `function (package/module.py:line)`);
# the innermost frame matching a rule wins.
LAYERS: list[tuple[str, str]] = [
    ("logging", "(structlog/"),
    ("logging", "(logging/"),
    ("driver (psycopg)", "(psycopg/"),
    ("driver (psycopg)", "(psycopg_pool/"),
    ("session (SQLAlchemy)", "(sqlalchemy/"),
    ("validation (pydantic)", "(pydantic/"),
    ("validation (pydantic)", "(pydantic_core/"),
    ("serialisation (json)", "(json/"),
    ("routing, dependencies (FastAPI)", "(fastapi/"),
    ("middleware, requests (Starlette)", "(starlette/"),
    ("ASGI server (uvicorn, httptools)", "(uvicorn/"),
    ("ASGI server (uvicorn, httptools)", "(httptools/"),
    ("event loop (asyncio, uvloop)", "(asyncio/"),
    ("event loop (asyncio, uvloop)", "(uvloop/"),
    ("greenlet bridge", "(greenlet/"),
    ("diarist", "(diarist/"),
]
# The load bench's requests (bench/load/_scenarios.py), for one user at a time.
OPS = ("timeline", "get", "me", "tags", "search_keyword", "search_semantic", "create")


def find_tool(name: str) -> str:
    """A tool on PATH or beside this interpreter (py-spy installs into the venv)."""
    beside = Path(sys.executable).parent / name
    found = shutil.which(name) or (str(beside) if beside.exists() else None)
    if found is None:
        raise SystemExit(f"{name} is needed (wrk: apt-get install wrk; py-spy: pip install)")
    return found


def classify(stack: list[str]) -> str:
    """The layer of a sample: the innermost frame whose file belongs to a known layer."""
    for frame in reversed(stack):
        for layer, marker in LAYERS:
            if marker in frame:
                return layer
    return "other (C, interpreter)"


def read_raw_profile(path: Path) -> collections.Counter[str]:
    """py-spy's raw (collapsed) format: `frame;frame;... count` per line."""
    layers: collections.Counter[str] = collections.Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            layers[classify(stack.split(";"))] += int(count)
    return layers


def profile_op(
    port: int,
    pid: int,
    op: str,
    users: list[BenchUser],
    seconds: int,
    connections: int,
    out_dir: Path,
) -> dict[str, Any]:
    raw = out_dir / f"{op}.txt"
    spy = subprocess.Popen(
        [find_tool("py-spy"), "record", "--pid", str(pid), "--format", "raw", "--rate", "250",
         "--duration", str(seconds), "--nonblocking", "--output", str(raw)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    script = out_dir / f"{op}.lua"
    write_script(script, create_request_builders()[op], users, seed=1)
    time.sleep(0.5)
    run = run_wrk(port, script, connections, seconds)
    spy.wait(seconds + 30)
    errors = sum(run[k] for k in ("status_errors", "connect_errors", "read_errors", "timeouts"))
    load = {"requests_per_s": round(run["requests"] / (run["duration_us"] / 1e6), 1)}
    load["errors"] = errors
    layers = read_raw_profile(raw)
    total = sum(layers.values()) or 1
    return {
        **load,
        "samples": total,
        "layers_pct": {k: round(100 * v / total, 1) for k, v in layers.most_common()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--ops", nargs="*", choices=OPS, default=list(OPS))
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="copy each op's raw py-spy profile here")
    args = parser.parse_args()
    for tool in ("wrk", "py-spy"):
        find_tool(tool)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="diarist-profile-") as tmp:
        data_dir = Path(tmp)
        port = find_free_port()
        server = start_server(data_dir, port, workers=1)
        try:
            wait_until_ready(server, port)
            owner = cluster_conninfo(data_dir, DatabaseSettings().owner_role)
            users, _ = load_dataset(
                owner, DatasetSpec(args.users, args.entries, 0), Settings(data_dir=data_dir)
            )
            roles = list_server_processes(server.pid, data_dir)
            api = (roles.get("api_worker") or roles["api_supervisor"])[0]
            for process in roles.get("job_worker", []):
                process.suspend()  # nothing to analyse; keep it off the cores
            for op in args.ops:
                results[op] = profile_op(
                    port, api.pid, op, users, args.seconds, args.connections, data_dir
                )
                print(op, json.dumps(results[op]), flush=True)
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    shutil.copy(data_dir / f"{op}.txt", args.keep / f"{op}.txt")
        finally:
            stop_server(server)
    write_results(
        {
            "settings": {
                "server": "diarist serve --workers 1",
                "users": args.users,
                "entries_per_user": args.entries,
                "seconds": args.seconds,
                "connections": args.connections,
                "sampler": "py-spy record --rate 250 --nonblocking (API worker only)",
            },
            "machine": machine(),
            "results": results,
        },
        "profile",
        "profile-latest",
    )


if __name__ == "__main__":
    main()

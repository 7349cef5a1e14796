"""Crash safety, proven (`python -m bench.crash`; part of `make bench`).

`diarist serve` runs on a throwaway data dir (two API workers, the job worker, the embedded
PostgreSQL). 200 clients each create one entry at once, with an `Idempotency-Key` and a tag,
and retry on any failure until they get their entry back. Meanwhile the API (its uvicorn
master and workers), the job worker and the PostgreSQL postmaster are each killed with
SIGKILL; `serve` restarts them (PostgreSQL with crash recovery, then everything else).

Then, from the database itself: every acknowledged entry exists, exactly once (one row per
key and per text); nothing is half-written (each entry has its tag link, the tag's usage count
is the number of entries, each entry has exactly one INSERT in the audit trail); and every
entry's analysis finishes, once (one result of each kind per entry; no job left running,
waiting or failed) — the worker killed mid-job leaves jobs that the sweeper retries once their
heartbeat is stale (`DIARIST_ANALYSIS__STALLED_AFTER_S`, 5 s here). Writes
bench/results/crash-<time>.json and crash-latest.json; exits non-zero when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg

from bench.report import machine, write_results
from diarist.db.embedded import SUPERUSER, EmbeddedPostgres
from diarist.db.provision import libpq_url

PASSWORD = "amber-falcon-river-92"  # noqa: S105 (a throwaway account's)
_READY_TIMEOUT_S = 180
_ANALYSIS_TIMEOUT_S = 900


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(data_dir: Path, port: int, log: Path, workers: int = 2) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DIARIST_ANALYSIS__STALLED_AFTER_S": "5",
        "DIARIST_LOG__ACCESS": "false",
        "DIARIST_SECRET_KEY": "crash-bench-" + "k" * 40,
    }
    for name in ("DIARIST_DATABASE_URL", "DIARIST_DB__OWNER_URL", "DIARIST_DB__SYSTEM_URL"):
        env.pop(name, None)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "diarist", "serve", "--data-dir", str(data_dir),
             "--port", str(port), "--workers", str(workers)],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip


def _stop_serve(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to serve's process group, SIGKILL after a minute."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=60)
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGKILL)


def _ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("diarist serve exited")
        with contextlib.suppress(httpx.TransportError, ValueError):
            if httpx.get(f"{base}/readyz", timeout=2).json().get("status") == "ready":
                return
        time.sleep(0.3)
    raise RuntimeError("diarist serve was not ready in time")


def _child(server: subprocess.Popen[bytes], marker: list[str]) -> psutil.Process | None:
    for child in psutil.Process(server.pid).children():
        with contextlib.suppress(psutil.NoSuchProcess):
            line = child.cmdline()
            found = any(line[i : i + len(marker)] == marker for i in range(len(line)))
            if found and child.status() != psutil.STATUS_ZOMBIE:
                return child
    return None


def _kill_tree(process: psutil.Process) -> int:
    """SIGKILL a process and everything under it; how many were killed."""
    victims = [process, *process.children(recursive=True)]
    for victim in victims:
        with contextlib.suppress(psutil.NoSuchProcess):
            victim.send_signal(signal.SIGKILL)
    return len(victims)


async def _killer(
    server: subprocess.Popen[bytes], data_dir: Path, log: list[dict[str, Any]]
) -> None:
    """The API (master and workers), then the job worker, then the postmaster: SIGKILL."""
    started = time.monotonic()
    for delay, name, marker in (
        (0.3, "api", ["-m", "uvicorn"]),
        (2.5, "worker", ["diarist", "worker"]),
        (5.0, "postgres", None),
    ):
        await asyncio.sleep(max(0.0, delay - (time.monotonic() - started)))
        if marker is None:
            running = EmbeddedPostgres(data_dir).running()
            target = psutil.Process(running.pid) if running else None
        else:
            target = _child(server, marker)
        at = round(time.monotonic() - started, 2)
        if target is None:
            log.append({"at_s": at, "kill": name, "found": False})
            continue
        if name == "api":
            killed = _kill_tree(target)
        else:
            target.send_signal(signal.SIGKILL)
            killed = 1
        log.append({"at_s": at, "kill": name, "processes": killed})


async def _client(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    n: int,
    acknowledged: dict[int, str],
    tries: list[int],
    replays: list[int],
) -> None:
    key = str(uuid.uuid4())
    body = {"title": f"crash {n}", "raw_data": {"format": "markdown", "text": f"crash-{n} text"},
            "tags": ["crash"]}  # fmt: skip
    attempts = 0
    while True:
        attempts += 1
        with contextlib.suppress(httpx.TransportError):
            made = await client.post(
                "/api/v1/entries", json=body, headers={**auth, "Idempotency-Key": key}
            )
            if made.status_code in (200, 201):
                acknowledged[n] = made.json()["id"]
                tries.append(attempts)
                if made.status_code == 200:  # committed before, its answer lost: a replay
                    replays.append(n)
                return
        await asyncio.sleep(0.2 + (n % 10) / 20)


async def _sign_up(base: str) -> dict[str, str]:
    email = f"crash-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        made = await client.post(
            "/api/v1/auth/register", json={"email": email, "name": "C", "password": PASSWORD}
        )
        assert made.status_code == 201, made.text
        token = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _figures(conn: psycopg.Connection[Any], acknowledged: dict[int, str]) -> dict[str, Any]:
    def one(query: str, *params: Any) -> Any:
        row = conn.execute(query, params).fetchone()
        return row[0] if row else None

    ids = list(acknowledged.values())
    return {
        "entries": one("SELECT count(*) FROM entries WHERE starts_with(title, 'crash ')"),
        "acknowledged_found": one("SELECT count(*) FROM entries WHERE id = ANY(%s::uuid[])", ids),
        "duplicate_texts": one(
            "SELECT count(*) FROM (SELECT title FROM entries WHERE starts_with(title, 'crash ')"
            " GROUP BY title HAVING count(*) > 1) d"
        ),
        "entries_without_their_tag": one(
            "SELECT count(*) FROM entries e WHERE starts_with(title, 'crash ') AND NOT EXISTS"
            " (SELECT 1 FROM entry_tags t WHERE t.entry_id = e.id)"
        ),
        "tag_usage_count": one("SELECT usage_count FROM tags WHERE name = 'crash'"),
        "entries_without_one_audit_insert": one(
            "SELECT count(*) FROM entries e WHERE starts_with(title, 'crash ') AND (SELECT count(*)"
            " FROM audit_log a WHERE a.table_name = 'entries' AND a.operation = 'INSERT'"
            " AND a.row_key = e.id::text) <> 1"
        ),
    }


def _analysis(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    def one(query: str) -> Any:
        row = conn.execute(query).fetchone()
        return row[0] if row else None

    return {
        "entries_analysed": one(
            "SELECT count(*) FROM entries WHERE starts_with(title, 'crash ')"
            " AND processing_status = 'completed'"
        ),
        "results_twice": one(
            "SELECT count(*) FROM (SELECT entry_id, task_type FROM processed_content"
            " GROUP BY 1, 2 HAVING count(*) > 1) d"
        ),
        "jobs_left": one(
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
            " AND starts_with(task_name, 'analysis:')"
        ),
        "jobs_failed": one("SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'"),
    }


def _measure(clients: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="diarist-crash-") as tmp:
        data_dir = Path(tmp) / "data"
        log_file = Path(tmp) / "serve.log"
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _serve(data_dir, port, log_file)
        try:
            _ready(base, server)
            auth = asyncio.run(_sign_up(base))
            acknowledged: dict[int, str] = {}
            tries: list[int] = []
            replays: list[int] = []
            kills: list[dict[str, Any]] = []

            async def storm() -> None:
                # One client with a connection for each: all 200 creates are in flight at once.
                limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
                async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
                    await asyncio.gather(
                        _killer(server, data_dir, kills),
                        *(
                            _client(client, auth, n, acknowledged, tries, replays)
                            for n in range(clients)
                        ),
                    )

            started = time.monotonic()
            asyncio.run(asyncio.wait_for(storm(), timeout=600))
            storm_s = time.monotonic() - started
            _ready(base, server)
            cluster = EmbeddedPostgres(data_dir).running()
            assert cluster is not None
            url = libpq_url(cluster.url(SUPERUSER, "diarist"))
            with psycopg.connect(url, autocommit=True) as conn:
                figures = _figures(conn, acknowledged)
                deadline = time.monotonic() + _ANALYSIS_TIMEOUT_S
                while True:
                    analysis = _analysis(conn)
                    if analysis["entries_analysed"] == clients and not analysis["jobs_left"]:
                        break
                    if time.monotonic() > deadline:
                        break
                    time.sleep(2)
                analysed_s = time.monotonic() - started
            restarts = {
                child["name"]: child["restarts"]
                for child in httpx.get(f"{base}/readyz", timeout=5).json()["children"]
            }
        finally:
            _stop_serve(server)
    checks = {
        "every_client_acknowledged": len(acknowledged) == clients,
        "every_acknowledged_found": figures["acknowledged_found"] == clients,
        "exactly_once": figures["entries"] == clients and figures["duplicate_texts"] == 0,
        "nothing_half_written": figures["entries_without_their_tag"] == 0
        and figures["tag_usage_count"] == clients
        and figures["entries_without_one_audit_insert"] == 0,
        "every_analysis_finished_once": analysis["entries_analysed"] == clients
        and analysis["results_twice"] == 0 and analysis["jobs_left"] == 0
        and analysis["jobs_failed"] == 0,
        "everything_was_killed": all(kill.get("processes") for kill in kills),
    }  # fmt: skip
    return {
        "clients": clients,
        "kills": kills,
        "restarts": restarts,
        "acknowledged": len(acknowledged),
        # Answered by an idempotent replay: the first try was written, its answer lost.
        "replayed": len(replays),
        "attempts_max": max(tries, default=0),
        "attempts_total": sum(tries),
        "storm_s": round(storm_s, 1),
        "analysed_after_s": round(analysed_s, 1),
        **figures,
        **analysis,
        "checks": checks,
        "passed": all(checks.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    result = _measure(args.clients)
    report = {"bench": "crash", "machine": machine(), "load_average_at_start": load, **result}
    print(write_results(report, "crash", "crash-latest"))
    if not result["passed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

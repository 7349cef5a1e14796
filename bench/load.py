"""HTTP load benchmark of the real `diarist serve --workers 2` on the embedded PostgreSQL.

Starts the supervisor on a fresh data dir and a free port, waits for /readyz, COPYs the bench
dataset (bench/dataset.py), then for each op x concurrency cell runs a warm-up and a measured
period and records p50/p95/p99, requests/s and errors; after each cell the resident memory of
every server process. Beside each op: how many SQL statements a request costs and how long they
take inside PostgreSQL (from the server's statement log, at concurrency 1), and the SQL floor:
EXPLAIN ANALYZE of the op's main statement, as the application role with the tenant set.

The driver is this process: asyncio (uvloop) with a minimal HTTP/1.1 keep-alive client, one
connection per virtual client; each request picks a user at random and sends that user's token.
`wrk` is not installed here and httpx costs about ten times as much CPU per request as the
minimal client, which on two cores is taken from the server under test.

    python -m bench.load                 # small: 10 users x 200 entries + a 20,000-entry user
    python -m bench.load --size large    # 100 x 1,000 + heavy user, then 1 M entries (latency)

Writes bench/results/latest.json and bench/results/load-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil
import psycopg
from psycopg import sql

from bench.dataset import BenchUser, DatasetSpec, cluster_conninfo, load
from bench.generator import entry_title, journal_entry_text, search_words
from bench.report import RESULTS, percentile, write_results
from diarist.config import DatabaseSettings
from diarist.db.embedded import SUPERUSER, EmbeddedPostgres

HOST = "127.0.0.1"
READ_OPS = ("timeline", "get", "search_keyword", "search_semantic", "search_hybrid")
# create comes last: it grows the data and queues analysis jobs.
ALL_OPS = (*READ_OPS, "create")
MB = 2**20


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
    "small": Size(DatasetSpec(10, 200), warmup_s=2, duration_s=8, concurrency=(1, 32, 256)),
    "large": Size(
        DatasetSpec(100, 1_000),
        warmup_s=5,
        duration_s=25,
        concurrency=(1, 32, 256),
        grow_to=1_000_000,
    ),
}


# --- the minimal HTTP/1.1 client ---------------------------------------------------------------


class HttpConnection:
    """One keep-alive connection; requests are sent one after another."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        reader, writer = self.reader, self.writer
        writer.write(head + body)
        raw = await reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        headers = raw.lower()
        close = b"\r\nconnection: close" in headers
        if b"\r\ntransfer-encoding: chunked" in headers:
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunks.append(await reader.readexactly(size + 2))
                if size == 0:
                    break
            payload = b"".join(chunk[:-2] for chunk in chunks)
        else:
            found = re.search(rb"\r\ncontent-length: *(\d+)", headers)
            payload = await reader.readexactly(int(found.group(1))) if found else b""
        if close:
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


def request_head(method: str, path: str, token: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", f"Authorization: Bearer {token}"]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# --- ops ---------------------------------------------------------------------------------------

Request = tuple[bytes, bytes, int]  # head, body, the status that means success
Builder = Callable[[random.Random, BenchUser], Request]
_WORDS = search_words()


def _texts() -> list[str]:
    return [journal_entry_text(900_000_000 + n) for n in range(200)]


def builders() -> dict[str, Builder]:
    texts = _texts()

    def timeline(_rng: random.Random, user: BenchUser) -> Request:
        return request_head("GET", "/api/v1/entries?limit=20", user.token), b"", 200

    def get(rng: random.Random, user: BenchUser) -> Request:
        path = f"/api/v1/entries/{rng.choice(user.entry_ids)}"
        return request_head("GET", path, user.token), b"", 200

    def search(mode: str) -> Builder:
        def build(rng: random.Random, user: BenchUser) -> Request:
            path = f"/api/v1/search?q={quote(rng.choice(_WORDS))}&mode={mode}"
            return request_head("GET", path, user.token), b"", 200

        return build

    def create(rng: random.Random, user: BenchUser) -> Request:
        body = {
            "title": entry_title(rng.randrange(1_000_000)),
            "raw_data": {"text": rng.choice(texts)},
            "tags": rng.sample(user.tags, 2),
            "mood_rating": rng.randint(1, 10),
        }
        payload = json.dumps(body).encode()
        return request_head("POST", "/api/v1/entries", user.token, payload), payload, 201

    return {
        "timeline": timeline,
        "get": get,
        "search_keyword": search("keyword"),
        "search_semantic": search("semantic"),
        "search_hybrid": search("hybrid"),
        "create": create,
    }


# --- one cell ----------------------------------------------------------------------------------


@dataclass
class CellResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    # Every request finished, warm-up included (for CPU time per request).
    finished: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


async def _client(
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
            _client(port, build, users, 1_000 * concurrency + n, measure_from, stop_at, out)
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


# --- the server under test ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(data_dir: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARIST_")}
    env |= {"DIARIST_DATA_DIR": str(data_dir), "DIARIST_PORT": str(port), "DIARIST_HOST": HOST}
    script = Path(sys.executable).parent / "diarist"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "diarist"]
    log = (data_dir / "serve.log").open("wb")
    return subprocess.Popen(
        [*command, "serve", "--workers", str(workers)], env=env, stdout=log, stderr=log
    )


def wait_ready(server: subprocess.Popen[bytes], port: int, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"diarist serve exited with {server.returncode}; see serve.log")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise TimeoutError("diarist serve did not become ready")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def server_processes(server_pid: int, data_dir: Path) -> dict[str, list[psutil.Process]]:
    """The processes of `serve`, by role, and the PostgreSQL processes."""
    roles: dict[str, list[psutil.Process]] = {}
    for child in psutil.Process(server_pid).children(recursive=True):
        try:
            line = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "resource_tracker" in line:
            continue
        if "spawn_main" in line:
            role = "api_worker"
        elif "uvicorn" in line:
            role = "api_supervisor"
        elif "-m diarist " in line + " ":
            role = line.split("-m diarist ", 1)[1].split()[0]  # worker, embedder, ...
            role = "job_worker" if role == "worker" else role
        else:
            role = "other"
        roles.setdefault(role, []).append(child)
    cluster = EmbeddedPostgres(data_dir).running()
    if cluster is None:
        raise RuntimeError(f"no PostgreSQL running on {data_dir}")
    main = psutil.Process(cluster.pid)
    roles["postgres"] = [main, *main.children(recursive=True)]
    roles["serve"] = [psutil.Process(server_pid)]
    return roles


class MemoryTracker:
    """Resident memory per server process (PostgreSQL: summed RSS and PSS), with peaks."""

    def __init__(self, server_pid: int, data_dir: Path) -> None:
        self.server_pid = server_pid
        self.data_dir = data_dir
        self.peak: dict[str, float] = {}
        self.last: dict[str, float] = {}

    def sample(self) -> None:
        current: dict[str, float] = {}
        for role, processes in server_processes(self.server_pid, self.data_dir).items():
            if role == "postgres":
                rss = pss = 0.0
                for process in processes:
                    with contextlib.suppress(psutil.Error):
                        info = process.memory_full_info()
                        rss += info.rss
                        pss += info.pss
                current["postgres_rss_sum_mb"] = rss / MB
                current["postgres_pss_sum_mb"] = pss / MB
                current["postgres_processes"] = len(processes)
                continue
            for n, process in enumerate(sorted(processes, key=lambda p: p.pid)):
                with contextlib.suppress(psutil.Error):
                    current[f"{role}_{n}_rss_mb"] = process.memory_info().rss / MB
        self.last = current
        for key, value in current.items():
            self.peak[key] = max(self.peak.get(key, 0.0), value)

    def report(self) -> dict[str, Any]:
        return {
            "last": {k: round(v, 1) for k, v in sorted(self.last.items())},
            "peak": {k: round(v, 1) for k, v in sorted(self.peak.items())},
        }

    def cpu_seconds(self) -> dict[str, dict[int, float]]:
        """CPU time (user + system) used so far, by role and pid; `driver` is this process."""
        totals: dict[str, dict[int, float]] = {}
        for role, processes in server_processes(self.server_pid, self.data_dir).items():
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    totals.setdefault(role, {})[process.pid] = times.user + times.system
        own = os.times()
        totals["driver"] = {os.getpid(): own.user + own.system}
        return totals

    def pause_job_worker(self, pause: bool) -> int:
        roles = server_processes(self.server_pid, self.data_dir)
        for process in roles.get("job_worker", []):
            process.send_signal(signal.SIGSTOP if pause else signal.SIGCONT)
        return len(roles.get("job_worker", []))


# --- statement log and SQL floors --------------------------------------------------------------

_RECORD = re.compile(r"^@@(\d+)\|([^|]*)\|(\w+):  (.*)$")
_DURATION = re.compile(
    r"duration: ([\d.]+) ms  (statement|parse|bind|execute)( [^:]*)?: (.*)$", re.S
)
_SKIP_MAIN = re.compile(r"auth_resolve_token|set_config|^\s*(BEGIN|COMMIT|ROLLBACK)", re.I)


@dataclass
class Statement:
    kind: str
    ms: float
    sql: str
    params: list[str | None] = field(default_factory=list)


def parse_params(text: str) -> list[str | None]:
    """`$1 = 'a''b', $2 = NULL` -> ["a'b", None] (values as PostgreSQL logged them)."""
    values: list[str | None] = []
    i = 0
    while (found := text.find("= ", i)) >= 0:
        i = found + 2
        if text.startswith("NULL", i):
            values.append(None)
            i += 4
            continue
        assert text[i] == "'"
        i += 1
        chars = []
        while True:
            if text[i] == "'":
                if text.startswith("''", i):
                    chars.append("'")
                    i += 2
                    continue
                i += 1
                break
            chars.append(text[i])
            i += 1
        values.append("".join(chars))
    return values


def read_statements(log: Path, offset: int, application: str) -> list[Statement]:
    """Statements logged (log_min_duration_statement = 0) since `offset` by `application`."""
    with log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    records: list[tuple[str, str, str, str]] = []
    for line in text.split("\n"):
        found = _RECORD.match(line)
        if found:
            pid, app, level, message = found.groups()
            records.append((pid, app, level, message))
        elif records and line.startswith("\t"):
            pid, app, level, message = records[-1]
            records[-1] = (pid, app, level, message + "\n" + line[1:])
    statements: list[Statement] = []
    last: dict[str, Statement] = {}
    for pid, app, level, message in records:
        if app != application:
            continue
        if level == "LOG" and (found := _DURATION.match(message)):
            ms, kind, _, query = found.groups()
            statement = Statement(kind, float(ms), query.strip())
            statements.append(statement)
            last[pid] = statement
        elif level == "DETAIL" and message.lower().startswith("parameters: ") and pid in last:
            last[pid].params = parse_params(message[len("parameters: ") :])
    return statements


def set_statement_log(superuser: str, on: bool) -> None:
    with psycopg.connect(superuser, autocommit=True) as conn:
        if on:
            conn.execute("ALTER SYSTEM SET log_min_duration_statement = 0")
            conn.execute("ALTER SYSTEM SET log_line_prefix = '@@%p|%a|'")
            conn.execute("ALTER SYSTEM SET log_parameter_max_length = -1")
        else:
            conn.execute("ALTER SYSTEM RESET log_min_duration_statement")
        conn.execute("SELECT pg_reload_conf()")
    time.sleep(0.5)


def explain_ms(
    app_conninfo: str, user: BenchUser, statement: Statement, runs: int = 5
) -> tuple[float, dict[str, float]]:
    """Median execution time of EXPLAIN ANALYZE of `statement` as the app role and `user`
    (each run in a transaction that is rolled back, so a write leaves nothing behind), and
    the median time of each trigger it fired (included in the execution time)."""
    times = []
    triggers: dict[str, list[float]] = {}
    args = sql.SQL(", ").join(sql.Literal(v) for v in statement.params)
    query = sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE bench_floor")
    if statement.params:
        query = query + sql.SQL("({})").format(args)
    with psycopg.connect(app_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("PREPARE bench_floor AS {}").format(sql.SQL(statement.sql)))
        for _ in range(runs):
            with conn.transaction(force_rollback=True):
                conn.execute("SELECT set_config('diarist.user_id', %s, true)", (str(user.id),))
                row = conn.execute(query).fetchone()
                assert row is not None
                times.append(float(row[0][0]["Execution Time"]))
                for trigger in row[0][0].get("Triggers", []):
                    triggers.setdefault(trigger["Trigger Name"], []).append(trigger["Time"])
    fired = {name: round(statistics.median(ms), 3) for name, ms in triggers.items()}
    return statistics.median(times), fired


def probe(
    port: int,
    build: Builder,
    user: BenchUser,
    data_dir: Path,
    superuser: str,
    app_conninfo: str,
    requests: int = 20,
) -> dict[str, Any]:
    """Statements per request, their time inside PostgreSQL, and the floor of the main one."""
    run_cell_sync(port, build, [user], 1, 0, 1.5)  # warm: prepared statements, caches
    log = data_dir / "postgresql.log"
    set_statement_log(superuser, True)
    offset = log.stat().st_size
    try:
        _send(port, build, user, requests, seed=5)
    finally:
        set_statement_log(superuser, False)
    statements = read_statements(log, offset, "diarist-api")
    round_trips = [s for s in statements if s.kind in {"statement", "execute"}]
    result: dict[str, Any] = {
        "statements_per_request": round(len(round_trips) / requests, 2),
        "db_ms_per_request": round(sum(s.ms for s in statements) / requests, 3),
        "statements": sorted({_shape(s.sql) for s in round_trips}),
    }
    executes = [s for s in statements if s.kind == "execute" and not _SKIP_MAIN.search(s.sql)]
    if executes:
        by_sql: dict[str, list[Statement]] = {}
        for statement in executes:
            by_sql.setdefault(statement.sql, []).append(statement)
        main = max(by_sql.values(), key=lambda same: statistics.mean(s.ms for s in same))
        result["main_statement"] = _shape(main[0].sql)
        result["main_statement_logged_ms"] = round(statistics.median(s.ms for s in main), 3)
        try:
            floor, triggers = explain_ms(app_conninfo, user, main[-1])
            result["sql_floor_ms"] = round(floor, 3)
            if triggers:
                result["sql_floor_triggers_ms"] = triggers
        except psycopg.Error as exc:
            result["sql_floor_error"] = str(exc).splitlines()[0]
    return result


def _send(
    port: int, build: Builder, user: BenchUser, requests: int, seed: int
) -> tuple[int, bytes]:
    """Send `requests` requests one after another on one connection; the last response."""

    async def go() -> tuple[int, bytes]:
        conn = HttpConnection(port)
        rng = random.Random(seed)
        try:
            for _ in range(requests):
                head, body, _expected = build(rng, user)
                response = await conn.request(head, body)
        finally:
            await conn.close()
        return response

    return asyncio.run(go())


def _shape(query: str) -> str:
    return " ".join(query.split())[:160]


# --- the run -----------------------------------------------------------------------------------


def machine(superuser: str) -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with psycopg.connect(superuser) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgres": row[0] if row else None,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def available(port: int, build: Builder, user: BenchUser) -> str | None:
    """None if the op answers as expected; else why it is skipped (e.g. 422 for a mode)."""
    status, payload = _send(port, build, user, 1, seed=1)
    if status in {200, 201}:
        return None
    return f"HTTP {status}: {payload[:200].decode(errors='replace')}"


def cpu_per_request(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]], requests: int
) -> dict[str, float]:
    """CPU milliseconds per request by role over a cell (where the time goes on 2 cores).
    Processes that ended during the cell are not counted (PostgreSQL backends rarely do)."""
    result = {}
    for role in sorted(after):
        if role not in {"api_worker", "postgres", "driver", "job_worker", "embedder"}:
            continue
        earlier = before.get(role, {})
        used = sum(now - earlier.get(pid, 0.0) for pid, now in after[role].items())
        result[role] = round(used * 1000 / max(requests, 1), 3)
    return result


def queued_jobs(owner: str) -> int:
    with psycopg.connect(owner) as conn:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
        ).fetchone()
    return int(row[0]) if row else 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    size = SIZES[args.size]
    spec = size.spec
    warmup = args.warmup if args.warmup is not None else size.warmup_s
    duration = args.duration if args.duration is not None else size.duration_s
    concurrency = tuple(args.concurrency or size.concurrency)
    ops = [op for op in ALL_OPS if op in (args.ops or ALL_OPS)]
    db = DatabaseSettings()
    notes: list[str] = []
    results: list[dict[str, Any]] = []
    million: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="diarist-load-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        server = start_server(data_dir, port, args.workers)
        try:
            wait_ready(server, port)
            superuser = cluster_conninfo(data_dir, SUPERUSER)
            owner = cluster_conninfo(data_dir, db.owner_role)
            app = cluster_conninfo(data_dir, db.app_role)
            info = machine(superuser)
            print(f"loading {spec.total_entries} entries ...", flush=True)
            users, report = load(owner, spec)
            print(json.dumps(report.as_dict()), flush=True)
            memory = MemoryTracker(server.pid, data_dir)
            memory.sample()
            build = builders()
            normal = next(u for u in users if not u.heavy)
            heavy = next((u for u in users if u.heavy), normal)
            floors: dict[str, dict[str, Any]] = {}
            skipped: dict[str, str] = {}

            def floor_of(op: str, user: BenchUser) -> dict[str, Any]:
                return probe(port, build[op], user, data_dir, superuser, app)

            # Nothing loaded needs analysis; creates (probes and cells) queue it. The worker
            # stays paused until the end, so that analysis competes with no cell.
            paused = memory.pause_job_worker(True)
            notes.append(
                f"the job worker ({paused} process) was paused (SIGSTOP) from the end of the"
                " load to the end of the last cell: the read cells saw an idle worker and the"
                " creates no competing analysis; each create queued its analysis job as usual"
            )
            try:
                for op in ops:
                    reason = available(port, build[op], normal)
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
                        before = memory.cpu_seconds()
                        cell = run_cell_sync(port, build[op], users, c, warmup, duration)
                        cell["cpu_ms_per_request"] = cpu_per_request(
                            before, memory.cpu_seconds(), cell["finished_incl_warmup"]
                        )
                        memory.sample()
                        results.append(_result(op, c, cell, floors.get(op), "base"))
                        print(json.dumps(results[-1]), flush=True)
                grow_to = size.grow_to if args.grow_to is None else args.grow_to
                if grow_to:
                    million = _million(
                        args, grow_to, spec, users, owner, port, build, skipped, memory, floor_of
                    )
                    results += million.pop("results")
                    for op, floor in million.pop("floors").items():
                        floors[f"{op}@{grow_to}"] = floor
            finally:
                queued = queued_jobs(owner)
                memory.pause_job_worker(False)
                notes.append(f"{queued} analysis jobs were queued when the worker resumed")
            if queued and args.analyse_s > 0:
                # Let the worker load its models and analyse, to report its memory.
                deadline = time.monotonic() + args.analyse_s
                while time.monotonic() < deadline:
                    memory.sample()
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
            "driver": "asyncio + uvloop, minimal HTTP/1.1 keep-alive client, same machine",
            "users_per_request": "uniformly random over all users (heavy user included)",
        },
        "results": results,
        "sql": floors,
        "memory": memory.report(),
        "notes": notes,
    }


def _result(
    op: str, concurrency: int, cell: dict[str, Any], floor: dict[str, Any] | None, data: str
) -> dict[str, Any]:
    result: dict[str, Any] = {"op": op, "concurrency": concurrency, "data": data, **cell}
    if floor:
        result["sql_floor_ms"] = floor["user"].get("sql_floor_ms")
        result["sql_floor_heavy_user_ms"] = floor["heavy_user"].get("sql_floor_ms")
        result["statements_per_request"] = floor["user"].get("statements_per_request")
        result["db_ms_per_request"] = floor["user"].get("db_ms_per_request")
    return result


def _million(
    args: argparse.Namespace,
    grow_to: int,
    spec: DatasetSpec,
    users: list[BenchUser],
    owner: str,
    port: int,
    build: dict[str, Builder],
    skipped: dict[str, str],
    memory: MemoryTracker,
    floor_of: Callable[[str, BenchUser], dict[str, Any]],
) -> dict[str, Any]:
    """Grow the data to `grow_to` entries (users of 1,000 entries), then latency at
    concurrency 1 for timeline, keyword and semantic search."""
    with psycopg.connect(owner) as conn:
        row = conn.execute("SELECT count(*) FROM entries").fetchone()
    have = int(row[0]) if row else 0
    extra = max(0, (grow_to - have) // 1_000)
    more = DatasetSpec(extra, 1_000, 0, spec.seed, spec.users + 1)
    print(f"growing to {grow_to} entries: {extra} users x 1,000 ...", flush=True)
    added, report = load(owner, more)
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
        memory.sample()
        label = "1M" if grow_to == 1_000_000 else f"{grow_to} entries"
        results.append(_result(op, 1, cell, floors.get(op), label))
        print(json.dumps(results[-1]), flush=True)
    return {"load": report.as_dict(), "users": len(everyone), "results": results, "floors": floors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--warmup", type=float, help="seconds before each measured cell")
    parser.add_argument("--duration", type=float, help="measured seconds per cell")
    parser.add_argument("--concurrency", type=int, nargs="+")
    parser.add_argument("--ops", nargs="+", choices=ALL_OPS)
    parser.add_argument("--no-probe", dest="probe", action="store_false")
    parser.add_argument(
        "--grow-to", type=int, help="entries for the last latency cells (large: 1 M; 0: skip)"
    )
    parser.add_argument("--million-s", type=float, default=20, help="seconds per grown cell")
    parser.add_argument("--analyse-s", type=float, default=15)
    parser.add_argument("--keep-log", type=Path, help="copy serve.log and postgresql.log here")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    print(write_results(run(args), "load", "latest", args.out))


if __name__ == "__main__":
    main()

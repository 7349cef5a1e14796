"""Cells driven by `wrk` (a C load generator: Debian's `apt-get install wrk`): the requests an
op's builder makes are written into a Lua script once, and wrk sends them in random order over
keep-alive connections. Without wrk the Python driver (`_scenarios.run_cell_sync`) runs."""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.dataset import BenchUser
from bench.load._http import HOST, Builder

# Distinct requests per cell (creates get distinct titles and bodies; reads, random users).
REQUESTS_PER_SCRIPT = 2_000
_RESULT_MARK = "WRK_RESULT "
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,'
    .. '"read_errors":%d,"write_errors":%d,"timeouts":%d,'
    .. '"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\\n',
    MARK, summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _lua_string(value: str) -> str:
    """A Lua long string that holds `value` verbatim."""
    level = 0
    while f"]{'=' * level}]" in value:
        level += 1
    return f"[{'=' * level}[{value}]{'=' * level}]"


def _lua_request(head: bytes, body: bytes) -> str:
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            if name.lower() not in {"host", "content-length", "connection"}:
                headers[name] = value.strip()
    table = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items())
    payload = _lua_string(body.decode()) if body else "nil"
    return f"wrk.format({_lua_string(method)}, {_lua_string(path)}, {{{table}}}, {payload})"


def write_script(path: Path, build: Builder, users: list[BenchUser], seed: int) -> None:
    """A wrk script of `REQUESTS_PER_SCRIPT` requests from `build`, for random users."""
    rng = random.Random(seed)
    requests = []
    for _ in range(REQUESTS_PER_SCRIPT):
        head, body, _expected = build(rng, rng.choice(users))
        requests.append(_lua_request(head, body))
    path.write_text(
        f"MARK = {_lua_string(_RESULT_MARK)}\n"
        "requests = {\n  " + ",\n  ".join(requests) + "\n}\n"
        "request = function() return requests[math.random(#requests)] end\n" + _DONE
    )


def run_wrk(port: int, script: Path, concurrency: int, seconds: float) -> dict[str, Any]:
    """One wrk run (one thread: the server under test has the other core's share)."""
    wrk = wrk_path()
    assert wrk is not None
    completed = subprocess.run(
        [
            wrk, "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
            "-s", str(script), f"http://{HOST}:{port}/",
        ],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    out = completed.stdout + completed.stderr
    line = next((line for line in out.splitlines() if line.startswith(_RESULT_MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result (a script error?): {out[-500:]}")
    result: dict[str, Any] = json.loads(line[len(_RESULT_MARK) :])
    return result


def wait_until_idle(port: int, timeout_s: float = 120) -> float:
    """wrk stops at its deadline, but the server still answers what it had queued (a cell at
    concurrency 256 leaves seconds of it): wait until a health check is quick twice in a row,
    so that the next cell starts on an idle server. The seconds waited."""
    started = time.monotonic()
    quick = 0
    while quick < 2 and time.monotonic() - started < timeout_s:
        sent = time.monotonic()
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=30).close()
        quick = quick + 1 if time.monotonic() - sent < 0.05 else 0
        time.sleep(0.2)
    return time.monotonic() - started


def run_cell_wrk(
    port: int,
    build: Builder,
    users: list[BenchUser],
    concurrency: int,
    warmup_s: float,
    duration_s: float,
) -> dict[str, Any]:
    """A cell as `_scenarios.run_cell` reports it, driven by wrk (warm-up run discarded)."""
    with tempfile.TemporaryDirectory(prefix="diarist-wrk-") as tmp:
        script = Path(tmp) / "cell.lua"
        write_script(script, build, users, seed=1_000 * concurrency)
        warm = run_wrk(port, script, concurrency, warmup_s) if warmup_s > 0 else {"requests": 0}
        run = run_wrk(port, script, concurrency, duration_s)
        drained_s = wait_until_idle(port)
    seconds = run["duration_us"] / 1e6
    errors = sum(
        run[k]
        for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts")
    )
    cell: dict[str, Any] = {
        "rps": round(run["requests"] / seconds, 1),
        "requests": run["requests"],
        "errors": errors,
        "finished_incl_warmup": run["requests"] + warm["requests"],
        "p50_ms": round(run["p50_us"] / 1000, 2),
        "p95_ms": round(run["p95_us"] / 1000, 2),
        "p99_ms": round(run["p99_us"] / 1000, 2),
        "max_ms": round(run["max_us"] / 1000, 2),
        "driver": "wrk",
        "drain_s": round(drained_s, 1),
    }
    kinds = {k: run[k] for k in ("status_errors", "connect_errors", "read_errors") if run[k]}
    kinds |= {k: run[k] for k in ("write_errors", "timeouts") if run[k]}
    if kinds:
        cell["error_kinds"] = kinds
    return cell

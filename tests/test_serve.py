"""`diarist serve` and `diarist db` as a user runs them: real processes on a real data dir."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from diarist import __version__
from diarist.config import Settings
from diarist.kit import processes
from tests.factories.accounts import signed_up
from tests.factories.journal import create_entry

STARTUP_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARIST_")}
    env["DIARIST_LOG__FORMAT"] = "json"
    return env


def _diarist(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "diarist", *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _start(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "diarist", "serve", "--data-dir", str(data_dir),
             "--port", str(port), "--workers", "1"],
            env=_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


def _wait_for(url: str, proc: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, "diarist serve exited during start-up"
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 in {STARTUP_TIMEOUT_S}s")


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "pg" / "postmaster.pid").read_text().splitlines()[0])


def _postgres_on(data_dir: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] == "postgres" and str(data_dir / "pg") in cmdline:
            found.append(proc)
    return found


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=60)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("serve")
    yield path
    for proc in _postgres_on(path):  # never leave a server behind, even on failure
        proc.kill()


async def _write_then_find_by_meaning(base_url: str) -> dict[str, str]:
    """The whole chain: the API writes, the worker analyses, the embedder embeds the query."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        me = await signed_up(client)
        await create_entry(client, me.auth, "Swam in the cold lake at sunrise.", title="lake")
        params = {"q": "an early morning swim", "mode": "semantic"}
        deadline = time.monotonic() + 90
        while True:
            found = await client.get("/api/v1/search", params=params, headers=me.auth)
            if found.status_code == 200 and found.json()["items"]:
                break
            assert found.status_code in (200, 503), found.text  # 503 until the model is loaded
            assert time.monotonic() < deadline, "the entry was not analysed and found in time"
            await asyncio.sleep(0.5)
        assert found.json()["items"][0]["title"] == "lake"
        return me.auth


def _child_pid(server: subprocess.Popen[bytes], name: str) -> int | None:
    """The pid of serve's `diarist <name>` child, if one runs."""
    for child in psutil.Process(server.pid).children():
        with contextlib.suppress(psutil.NoSuchProcess):
            if child.cmdline()[-2:] == ["diarist", name] and child.status() != "zombie":
                return int(child.pid)
    return None


def _kill_and_see_them_come_back(
    server: subprocess.Popen[bytes], port: int, names: tuple[str, ...]
) -> None:
    """kill -9 of children: serve stays up, the API keeps answering, each child comes back."""
    killed = {name: _child_pid(server, name) for name in names}
    for name, pid in killed.items():
        assert pid is not None, name
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    back: dict[str, int | None] = {}
    while time.monotonic() < deadline:
        assert server.poll() is None, "serve outlives its children"
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        back = {name: _child_pid(server, name) for name in names}
        if all(pid is not None and pid != killed[name] for name, pid in back.items()):
            return
        time.sleep(0.2)
    raise AssertionError(f"not restarted within 30 s: {back}")


def _ready(port: int, server: subprocess.Popen[bytes]) -> dict[str, Any]:
    """/readyz once serve reports every child running again (through restarts and outages)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        assert server.poll() is None, "serve exited"
        with contextlib.suppress(httpx.TransportError):
            state = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).json()
            if state["status"] == "ready":
                return state
        time.sleep(0.2)
    raise AssertionError(f"not ready again in {STARTUP_TIMEOUT_S}s: {state}")


def _wait_for_socket(path: Path) -> None:
    transport = httpx.HTTPTransport(uds=str(path))
    deadline = time.monotonic() + 60
    with httpx.Client(transport=transport, base_url="http://embedder") as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if client.get("/healthz").status_code == 200:
                    return
            time.sleep(0.2)
    raise AssertionError("the restarted embedder does not answer")


def test_serve_lifecycle(data_dir: Path, tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "serve.log"
    server = _start(data_dir, port, log)
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/healthz", server).json() == {"status": "ok"}
        ready = _wait_for(f"http://127.0.0.1:{port}/readyz", server).json()
        assert (ready["status"], ready["database"], ready["migrations"]) == (
            "ready",
            True,
            "current",
        )
        assert {child["state"] for child in ready["children"]} == {"running"}
        missing = httpx.get(f"http://127.0.0.1:{port}/nope")
        assert missing.status_code == 404
        assert missing.json()["code"] == "not_found"
        broken = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/login",
            content=b'{"email": ',
            headers={"content-type": "application/json"},
        )
        assert broken.status_code == 400
        assert broken.headers["content-type"] == "application/problem+json"
        assert broken.json()["code"] == "malformed_json"
        auth = asyncio.run(_write_then_find_by_meaning(f"http://127.0.0.1:{port}"))
        embedder_socket = Path(
            Settings(_env_file=None, data_dir=data_dir).embedder_url.removeprefix("unix:")
        )
        assert embedder_socket.is_socket()

        second = _diarist("serve", "--data-dir", str(data_dir), "--port", str(_free_port()))
        assert second.returncode != 0
        assert "in use" in second.stderr
        assert server.poll() is None, "the first server is untouched by the second attempt"

        _kill_and_see_them_come_back(server, port, ("worker", "embedder"))
        _wait_for_socket(embedder_socket)  # serving again (the model loads first)
        children = {child["name"]: child for child in _ready(port, server)["children"]}
        assert sorted(children) == ["api", "embedder", "postgres", "worker"]
        assert {name: child["restarts"] for name, child in children.items()} == {
            "api": 0, "embedder": 1, "postgres": 0, "worker": 1
        }  # fmt: skip
        assert children["worker"]["last_exit_code"] == -signal.SIGKILL

        # PostgreSQL's death stops the rest; it comes back (crash recovery), then the rest.
        before_postgres_death = len(log.read_text())
        os.kill(_postmaster_pid(data_dir), signal.SIGKILL)
        children = {child["name"]: child for child in _ready(port, server)["children"]}
        assert children["postgres"]["restarts"] == 1
        assert children["postgres"]["pid"] == _postmaster_pid(data_dir)
        kept = httpx.get(f"http://127.0.0.1:{port}/api/v1/entries", headers=auth)
        assert [entry["title"] for entry in kept.json()["items"]] == ["lake"]

        postmaster = _postmaster_pid(data_dir)
        assert _stop(server) == 0
    finally:
        if server.poll() is None:
            server.kill()
    assert not processes.alive(postmaster)  # gone, or a zombie pid 1 has yet to reap
    assert _postgres_on(data_dir) == []
    assert not embedder_socket.exists(), "the embedder stopped and cleaned up"
    # No crash of ours; after PostgreSQL's death only the job queue's listener logs its own.
    text = log.read_text()
    assert "Traceback" not in text[:before_postgres_death]
    for line in text[before_postgres_death:].splitlines():
        if "Traceback" in line:
            assert json.loads(line)["logger"].startswith("procrastinate."), line

    # Starting again reuses the cluster and its data (no second initdb).
    restart = _start(data_dir, port, log)
    try:
        _wait_for(f"http://127.0.0.1:{port}/readyz", restart)
        assert _stop(restart) == 0
    finally:
        if restart.poll() is None:
            restart.kill()
    assert log.read_text().count("embedded_postgres_initdb") == 1
    assert _postgres_on(data_dir) == []


def test_db_commands_on_the_embedded_database(data_dir: Path) -> None:
    where = ("--data-dir", str(data_dir))
    down = _diarist("db", "downgrade", "base", *where)
    assert down.returncode == 0, down.stderr
    assert "(none)" in _diarist("db", "current", *where).stdout
    up = _diarist("db", "upgrade", "head", *where)
    assert up.returncode == 0, up.stderr
    assert "(head)" in _diarist("db", "current", *where).stdout
    assert _postgres_on(data_dir) == []


def test_history_and_version() -> None:
    assert "foundation" in _diarist("db", "history").stdout
    version = _diarist("version")
    assert version.returncode == 0
    assert version.stdout.strip() == __version__

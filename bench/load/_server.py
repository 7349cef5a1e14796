"""The server under test: `diarist serve` on a free port, started, awaited and stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.load._http import HOST


def find_free_port() -> int:
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


def wait_until_ready(
    server: subprocess.Popen[bytes], port: int, timeout_s: float = 180, path: str = "/readyz"
) -> None:
    """Until `path` answers 200 (the server's log says why it exited, if it does)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=2) as response:
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

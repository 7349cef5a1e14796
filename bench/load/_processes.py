"""The processes of the server under test by role: their resident memory, their CPU time per
request, and pausing the job worker."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any

import psutil

from bench.cluster import find_running_cluster

MB = 2**20


def list_server_processes(server_pid: int, data_dir: Path) -> dict[str, list[psutil.Process]]:
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
    cluster = find_running_cluster(data_dir)
    main = psutil.Process(cluster.pid)
    roles["postgres"] = [main, *main.children(recursive=True)]
    roles["serve"] = [psutil.Process(server_pid)]
    return roles


class ProcessMonitor:
    """Resident memory per server process (PostgreSQL: summed RSS and PSS), with peaks; CPU time
    by role; and the job worker paused or resumed."""

    def __init__(self, server_pid: int, data_dir: Path) -> None:
        self.server_pid = server_pid
        self.data_dir = data_dir
        self.peak: dict[str, float] = {}
        self.last: dict[str, float] = {}

    def sample(self) -> None:
        current: dict[str, float] = {}
        for role, processes in list_server_processes(self.server_pid, self.data_dir).items():
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
        for role, processes in list_server_processes(self.server_pid, self.data_dir).items():
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    totals.setdefault(role, {})[process.pid] = times.user + times.system
        own = os.times()
        totals["driver"] = {os.getpid(): own.user + own.system}
        return totals

    def pause_job_worker(self, pause: bool) -> int:
        roles = list_server_processes(self.server_pid, self.data_dir)
        for process in roles.get("job_worker", []):
            process.send_signal(signal.SIGSTOP if pause else signal.SIGCONT)
        return len(roles.get("job_worker", []))


def compute_cpu_per_request(
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

"""The parts of the load result that describe the run: the machine, and one row a cell."""

from __future__ import annotations

import contextlib
import os
import platform
from pathlib import Path
from typing import Any

import psutil
import psycopg


def describe_machine(superuser: str) -> dict[str, Any]:
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


def build_result_row(
    op: str, concurrency: int, cell: dict[str, Any], floor: dict[str, Any] | None, data: str
) -> dict[str, Any]:
    result: dict[str, Any] = {"op": op, "concurrency": concurrency, "data": data, **cell}
    if floor:
        result["sql_floor_ms"] = floor["user"].get("sql_floor_ms")
        result["sql_floor_heavy_user_ms"] = floor["heavy_user"].get("sql_floor_ms")
        result["statements_per_request"] = floor["user"].get("statements_per_request")
        result["db_ms_per_request"] = floor["user"].get("db_ms_per_request")
    return result

"""What `diarist serve` tells its children about each other: a status file under the data dir.

The supervisor rewrites `<data_dir>/run/children.json` whenever a child starts, dies or comes
back; `/readyz` reads it. The file names the supervisor's pid, so a file left behind by a serve
that was killed is recognised as stale and ignored.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from diarist.kit import processes


class ChildState(BaseModel):
    """One supervised process as the supervisor last saw it."""

    name: str
    state: Literal["running", "restarting"]
    pid: int | None
    restarts: int
    last_exit_code: int | None
    since: datetime


class Supervision(BaseModel):
    supervisor_pid: int
    children: list[ChildState]


def status_path(data_dir: Path) -> Path:
    return data_dir / "run" / "children.json"


def write_status(path: Path, children: list[ChildState]) -> None:
    """Replace the status file in one step (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # also the embedder socket dir
    partial = path.with_suffix(".tmp")
    body = Supervision(supervisor_pid=os.getpid(), children=children).model_dump_json()
    partial.write_text(body)
    partial.replace(path)


def remove_status(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def read_status(path: Path) -> list[ChildState] | None:
    """The children of the live supervisor; None without one (or when the file is stale)."""
    try:
        status = Supervision.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None
    return status.children if processes.alive(status.supervisor_pid) else None

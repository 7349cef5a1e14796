"""Whether a process runs, as a supervisor needs to know it."""

from __future__ import annotations

import psutil


def alive(pid: int) -> bool:
    """Whether `pid` runs. A zombie (dead, not yet reaped) does not: a daemon such as the
    postmaster is reparented to pid 1, which in a container may never reap it."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True

"""Unix socket paths that fit: sun_path holds 107 bytes on Linux, and data dirs can be deep."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

# Room for the longest file name placed in the directory (`.s.PGSQL.5432`, `embedder.sock`).
MAX_SOCKET_DIR = 80


def socket_dir(preferred: Path) -> Path:
    """`preferred` when short enough, else a directory under /tmp named after it (so the same
    data dir always maps to the same place). The caller creates it (`make_socket_dir`)."""
    if len(str(preferred)) <= MAX_SOCKET_DIR:
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:12]
    return Path("/tmp") / f"diarist-{digest}"  # noqa: S108


class UnsafeSocketDir(RuntimeError):
    """The socket directory exists but is not ours alone: someone could swap the socket."""


def make_socket_dir(preferred: Path, *, check: bool = True) -> Path:
    """Create (owner-only) and return `socket_dir(preferred)`. With `check`, refuse a directory
    that is a symlink, owned by someone else or open to others: the name under /tmp is
    predictable, so another local user could have made it first."""
    directory = socket_dir(preferred)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = directory.lstat()
    if check and (
        stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077
    ):
        raise UnsafeSocketDir(
            f"{directory} must be a directory of this user that others cannot open (mode 0700)"
        )
    return directory

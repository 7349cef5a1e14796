"""Unix socket paths that fit: sun_path holds 107 bytes on Linux, and data dirs can be deep."""

from __future__ import annotations

import hashlib
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


def make_socket_dir(preferred: Path) -> Path:
    """Create (owner-only) and return `socket_dir(preferred)`."""
    directory = socket_dir(preferred)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory

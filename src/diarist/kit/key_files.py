"""Secrets a server makes once and keeps in its data dir (the VAPID key, the vault's OPAQUE
setup): made by whichever process comes first, never half-written, never made twice."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def secret_file(path: Path, make: Callable[[], bytes]) -> bytes:
    """The file's bytes; if there is none, `make()`'s, written whole (a private temporary file,
    fsynced, then linked into place: a process that loses the race reads the winner's)."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(make())
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process linked its own first
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path.read_bytes()

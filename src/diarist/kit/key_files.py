"""Secrets a server makes once and keeps in its data dir (the VAPID key, the vault's OPAQUE
setup): made by whichever process comes first, never half-written, never made twice; and
key lists a command rotates (`replace_secret_file`)."""

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


def replace_secret_file(path: Path, data: bytes) -> None:
    """Replace the file with `data` at once: written to a private temporary file beside it,
    fsynced, renamed over it, and the directory fsynced — a crash leaves the old keys or
    the new ones, never a torn or lost file (a lost key file loses what it opens)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)

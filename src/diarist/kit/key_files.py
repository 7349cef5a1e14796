"""Secrets a server makes once and keeps in its data dir (the VAPID key, the vault's OPAQUE
setup): made by whichever process comes first, never half-written, never made twice; and
key lists a command rotates (`replace_key_list`)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _written_beside(path: Path, data: bytes) -> str:
    """A private temporary file beside `path` holding `data`, fsynced; its name."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        os.unlink(temporary)
        raise
    return temporary


def secret_file(path: Path, make: Callable[[], bytes]) -> bytes:
    """The file's bytes; if there is none, `make()`'s, written whole (a private temporary file,
    fsynced, then linked into place: a process that loses the race reads the winner's)."""
    if path.exists():
        return path.read_bytes()
    temporary = _written_beside(path, make())
    try:
        with contextlib.suppress(FileExistsError):  # another process linked its own first
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path.read_bytes()


def replace_key_list(path: Path, keys: list[bytes]) -> None:
    """Replace the file with `keys`, hex, one a line, at once: renamed over it from a fsynced
    temporary file, and the directory fsynced — a crash leaves the old keys or the new ones,
    never a torn or lost file (a lost key file loses what it opens)."""
    temporary = _written_beside(path, "".join(key.hex() + "\n" for key in keys).encode())
    try:
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)

"""Reading a file that may be a zip without trusting it: member names, sizes and the bytes
actually inflated are checked (a zip bomb is refused, not unpacked)."""

from __future__ import annotations

import contextlib
import functools
import weakref
import zipfile
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

from diarist.imports.errors import ImportTooLarge, InvalidImportFile

MAX_MEMBERS = 200_000


class Reader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Capped:
    """A binary stream that refuses to yield more than `limit` bytes (inflated sizes in a zip's
    directory can lie)."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self._raw, self._left = raw, limit

    def read(self, size: int = -1) -> bytes:
        try:
            chunk = self._raw.read(size if size >= 0 else self._left + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise InvalidImportFile(f"A file in the archive is damaged ({exc}).") from None
        self._left -= len(chunk)
        if self._left < 0:
            raise ImportTooLarge("A file in the archive inflates past the import size limit.")
        return chunk

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> _Capped:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return not path.is_absolute() and ".." not in path.parts and ":" not in name


@contextlib.contextmanager
def _reading_zip(path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        with zipfile.ZipFile(path) as archive:
            yield archive
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise InvalidImportFile(f"The zip archive is damaged or truncated ({exc}).") from None


def _checked_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise InvalidImportFile(f"The archive has more than {MAX_MEMBERS} members.")
    unsafe = [info.filename for info in members if not _safe_name(info.filename)]
    if unsafe:
        raise InvalidImportFile(f"The archive names a path outside itself: {unsafe[0]!r}.")
    return members


def files_in_zip(path: Path, suffix: str, max_bytes: int) -> Iterator[tuple[str, bytes | None]]:
    """(name, bytes) of every `*<suffix>` member at any depth, in name order, but those under
    a hidden folder (`.obsidian/`); bytes None for a member larger than `max_bytes`."""
    for name, data, _written in dated_files_in_zip(path, suffix, max_bytes):
        yield name, data


def dated_files_in_zip(
    path: Path, suffix: str, max_bytes: int
) -> Iterator[tuple[str, bytes | None, float | None]]:
    """`files_in_zip` with each member's modification time (seconds, as the zip records it:
    local time taken as UTC), for a note that has no other date."""
    with _reading_zip(path) as archive:
        chosen = sorted(
            (info for info in _checked_members(archive)
             if info.filename.lower().endswith(suffix) and not info.is_dir()
             and not any(part.startswith(".") for part in info.filename.split("/")[:-1])),
            key=lambda info: info.filename,
        )  # fmt: skip
        for info in chosen:
            written = _zip_time(info)
            if info.file_size > max_bytes:
                yield info.filename, None, written
                continue
            try:
                with archive.open(info) as member:
                    yield info.filename, _Capped(member, max_bytes).read(), written
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise InvalidImportFile(f"{info.filename} is damaged ({exc}).") from None


def zip_members(
    path: Path, max_bytes: int, wanted: Callable[[str], bool]
) -> dict[str, Callable[[], IO[bytes]]]:
    """How to open each file of the zip at `path` whose name is `wanted`, by its name; none
    when `path` is not a zip. Each opens capped at `max_bytes` as it inflates, from the archive
    opened once, on first use, and closed when the last opener is gone (an import attaches a
    batch's files after the reader has moved on)."""
    if not zipfile.is_zipfile(path):
        return {}
    with _reading_zip(path) as archive:
        chosen = {
            info.filename: info
            for info in _checked_members(archive)
            if not info.is_dir() and wanted(info.filename)
        }
    members = _Members(path, max_bytes)
    return {name: functools.partial(members.open, info) for name, info in chosen.items()}


class _Members:
    def __init__(self, path: Path, max_bytes: int) -> None:
        self._path, self._max_bytes = path, max_bytes
        self._archive: zipfile.ZipFile | None = None

    def open(self, info: zipfile.ZipInfo) -> IO[bytes]:
        try:
            if self._archive is None:
                self._archive = zipfile.ZipFile(self._path)
                weakref.finalize(self, self._archive.close)
            return _Capped(self._archive.open(info), self._max_bytes)  # type: ignore[return-value]
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise InvalidImportFile(f"{info.filename} cannot be read ({exc}).") from None


def _zip_time(info: zipfile.ZipInfo) -> float | None:
    """The member's time (the zip records wall-clock time, read as UTC); None for none (a
    zeroed or impossible date, as many zip tools write)."""
    try:
        moment = datetime(*info.date_time, tzinfo=UTC)
    except ValueError:
        return None
    return None if moment.year <= 1980 else moment.timestamp()


def documents(path: Path, suffix: str, max_bytes: int) -> Iterator[tuple[str, Reader]]:
    """The documents to read: `path` itself, or each top-level `*<suffix>` member when it is a
    zip (Day One puts one JSON per journal at the top, media in folders beside)."""
    if not zipfile.is_zipfile(path):
        if path.stat().st_size > max_bytes:
            raise ImportTooLarge(f"The file is larger than the limit of {max_bytes} bytes.")
        with path.open("rb") as file:
            yield path.name, file
        return
    with _reading_zip(path) as archive:
        members = _checked_members(archive)
        chosen = [
            info
            for info in members
            if info.filename.lower().endswith(suffix) and "/" not in info.filename.rstrip("/")
        ]
        if not chosen:
            raise InvalidImportFile(f"The archive holds no {suffix} file at its top level.")
        for info in chosen:
            if info.file_size > max_bytes:
                raise ImportTooLarge(f"{info.filename} is larger than {max_bytes} bytes.")
            try:
                with archive.open(info) as member:
                    yield info.filename, _Capped(member, max_bytes)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise InvalidImportFile(f"{info.filename} is damaged ({exc}).") from None

"""Where attachments' bytes live: a content-addressed store of objects named
`<user id>/<sha-256 hex>[.<variant>]`, on the filesystem under the data dir (the default) or
in an S3-compatible bucket. Both keep an object whole or not at all (written aside, then
renamed; S3's PUT is atomic), read byte ranges, and list what they hold for the collector."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import anyio
from anyio import to_thread

from diarist.config import AttachmentSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CHUNK_BYTES = 256 * 1024
# Variants stored beside an original: its thumbnail and its copy without a location.
THUMBNAIL = "thumb.jpg"
WITHOUT_LOCATION = "noloc.jpg"
VARIANTS = (THUMBNAIL, WITHOUT_LOCATION)
_TORN_AFTER = timedelta(days=1)
_KEY = re.compile(r"^[0-9a-f-]{36}/[0-9a-f]{64}(\.(thumb|noloc)\.jpg)?$")


class ObjectMissing(Exception):
    """The store has no object of that key."""


def object_key(user_id: uuid.UUID, sha256: bytes, variant: str | None = None) -> str:
    key = f"{user_id}/{sha256.hex()}"
    return f"{key}.{variant}" if variant else key


def _checked(key: str) -> str:
    if not _KEY.match(key):  # never a path of the caller's making
        raise ValueError(f"not an attachment key: {key!r}")
    return key


class Store(Protocol):
    async def put(self, key: str, source: Path | bytes) -> None:
        """Store an object whole (replacing one of the same key)."""

    def read(
        self, key: str, start: int = 0, stop: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        """The object's bytes from `start` up to `stop` (exclusive), in chunks."""

    async def delete(self, key: str) -> None:
        """Remove an object; a missing one is no error."""

    def listing(self) -> AsyncIterator[tuple[str, datetime]]:
        """Every object's key and when it was written."""


class FileStore:
    """Objects as files under `root` (0700 folders, 0600 files)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    async def put(self, key: str, source: Path | bytes) -> None:
        await to_thread.run_sync(self._put, self._path(key), source)

    @staticmethod
    def _put(path: Path, source: Path | bytes) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        try:
            fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                if isinstance(source, bytes):
                    out.write(source)
                else:
                    with source.open("rb") as file:
                        while chunk := file.read(1024 * 1024):
                            out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(aside, path)
        finally:
            aside.unlink(missing_ok=True)

    async def read(
        self, key: str, start: int = 0, stop: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        try:
            file = await anyio.open_file(self._path(key), "rb")
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        async with file:
            await file.seek(start)
            left = None if stop is None else stop - start
            while left is None or left > 0:
                chunk = await file.read(CHUNK_BYTES if left is None else min(CHUNK_BYTES, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    async def delete(self, key: str) -> None:
        await to_thread.run_sync(lambda: self._path(key).unlink(missing_ok=True))

    async def listing(self) -> AsyncIterator[tuple[str, datetime]]:
        found = await to_thread.run_sync(self._list)
        for item in found:
            yield item

    def _list(self) -> list[tuple[str, datetime]]:
        if not self.root.is_dir():
            return []
        found = []
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                try:
                    written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                except FileNotFoundError:
                    continue
                if path.name.endswith(".part"):  # a write a crash tore: gone after a day
                    if written < datetime.now(UTC) - _TORN_AFTER:
                        path.unlink(missing_ok=True)
                    continue
                found.append((f"{folder.name}/{path.name}", written))
        return found


class S3Store:
    """Objects in an S3-compatible bucket, through boto3 (its calls run in threads)."""

    def __init__(self, settings: AttachmentSettings) -> None:
        import boto3
        from botocore.config import Config

        s3 = settings.s3
        self.bucket, self.prefix = s3.bucket, s3.prefix
        self.client: S3Client = boto3.client(
            "s3",
            endpoint_url=s3.endpoint_url,
            region_name=s3.region,
            aws_access_key_id=s3.access_key_id.get_secret_value() if s3.access_key_id else None,
            aws_secret_access_key=(
                s3.secret_access_key.get_secret_value() if s3.secret_access_key else None
            ),
            config=Config(
                connect_timeout=s3.timeout_s, read_timeout=s3.timeout_s,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )  # fmt: skip

    def _key(self, key: str) -> str:
        return self.prefix + _checked(key)

    async def put(self, key: str, source: Path | bytes) -> None:
        name = self._key(key)
        if isinstance(source, bytes):
            await to_thread.run_sync(
                lambda: self.client.put_object(Bucket=self.bucket, Key=name, Body=source)
            )
        else:
            await to_thread.run_sync(self.client.upload_file, str(source), self.bucket, name)

    async def read(
        self, key: str, start: int = 0, stop: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        if stop is not None and stop <= start:
            return
        span = f"bytes={start}-{'' if stop is None else stop - 1}"
        try:
            answer = await to_thread.run_sync(
                lambda: self.client.get_object(Bucket=self.bucket, Key=self._key(key), Range=span)
            )
        except self.client.exceptions.NoSuchKey:
            raise ObjectMissing(key) from None
        except Exception as exc:
            if _status(exc) == 416:  # a range past the end of an empty object
                return
            raise
        body = answer["Body"]
        try:
            chunks = body.iter_chunks(CHUNK_BYTES)
            while chunk := await to_thread.run_sync(next, chunks, b""):
                yield chunk
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        name = self._key(key)
        await to_thread.run_sync(lambda: self.client.delete_object(Bucket=self.bucket, Key=name))

    async def listing(self) -> AsyncIterator[tuple[str, datetime]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        iterator = iter(pages)
        while page := await to_thread.run_sync(next, iterator, None):
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix) :], item["LastModified"]


def _status(exc: Exception) -> int | None:
    response: Any = getattr(exc, "response", None)
    return response.get("ResponseMetadata", {}).get("HTTPStatusCode") if response else None


def open_store(settings: AttachmentSettings, data_dir: Path) -> Store:
    """The store the settings name: the filesystem under the data dir, or an S3 bucket."""
    if settings.store == "s3":
        return S3Store(settings)
    return FileStore(data_dir / "attachments")

"""The attachment stores, the filesystem's and S3's (against a real S3 server on loopback):
whole objects, byte ranges, deletion, listing, and keys that are never paths of our making."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from diarist.attachments.store import (
    THUMBNAIL,
    FileStore,
    ObjectMissing,
    Store,
    object_key,
    open_store,
)
from diarist.config import AttachmentSettings
from tests.fixtures.s3 import s3_server, s3_settings

DATA = bytes(range(256)) * 2000  # 512,000 bytes: two chunks and some


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["filesystem", "s3", "s3-prefixed"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "filesystem":
        return open_store(AttachmentSettings(), tmp_path)
    endpoint = request.getfixturevalue("s3_endpoint")
    prefix = "one/install/" if request.param == "s3-prefixed" else ""
    return open_store(s3_settings(endpoint, prefix), tmp_path)


async def _read(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def test_put_read_ranges_delete(store: Store, tmp_path: Path) -> None:
    user, digest = uuid.uuid4(), bytes(range(32))
    key = object_key(user, digest)
    source = tmp_path / "upload"
    source.write_bytes(DATA)
    await store.put(key, source)
    await store.put(object_key(user, digest, THUMBNAIL), b"thumb")
    assert await _read(store.read(key)) == DATA
    assert await _read(store.read(key, 1000, 2000)) == DATA[1000:2000]
    assert await _read(store.read(key, len(DATA) - 3)) == DATA[-3:]
    assert await _read(store.read(object_key(user, digest, THUMBNAIL))) == b"thumb"
    listed = {k: written async for k, written in store.listing()}
    assert set(listed) == {key, object_key(user, digest, THUMBNAIL)}
    assert all(abs(w - datetime.now(UTC)) < timedelta(minutes=5) for w in listed.values())
    await store.put(key, b"replaced")
    assert await _read(store.read(key)) == b"replaced"
    await store.delete(key)
    await store.delete(key)  # gone already: no error
    with pytest.raises(ObjectMissing):
        await _read(store.read(key))
    assert [k async for k, _ in store.listing()] == [object_key(user, digest, THUMBNAIL)]


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "a/b", f"{uuid.uuid4()}/../x"])
async def test_a_key_is_never_a_path_of_the_callers_making(store: Store, key: str) -> None:
    with pytest.raises(ValueError, match="not an attachment key"):
        await store.put(key, b"x")


def test_the_filesystem_store_removes_a_torn_write_after_a_day(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    folder = tmp_path / str(uuid.uuid4())
    folder.mkdir()
    torn = folder / f".{'a' * 64}.1234.part"
    torn.write_bytes(b"half")
    fresh = folder / f".{'b' * 64}.5678.part"
    fresh.write_bytes(b"half")
    old = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    os.utime(torn, (old, old))
    assert store._list() == []
    assert not torn.exists()
    assert fresh.exists(), "a young one may be a write under way"

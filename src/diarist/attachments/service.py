"""Attachments: a file is staged (hashed and counted as it is copied), inspected (its type from
its bytes; for an image its size, location, thumbnail), then stored once per user and content
and attached to an entry; its bytes are served in ranges, without their location unless the
user keeps it. The collector removes what no attachment names any more."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import structlog
from anyio import CapacityLimiter, to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.attachments import media
from diarist.attachments import repository as repo
from diarist.attachments.errors import (
    AttachmentEntryNotFound,
    AttachmentNotFound,
    AttachmentTooLarge,
    DamagedAttachment,
    NoThumbnail,
    QuotaExceeded,
    UnsupportedMediaType,
)
from diarist.attachments.store import (
    THUMBNAIL,
    VARIANTS,
    WITHOUT_LOCATION,
    Store,
    object_key,
    open_store,
)
from diarist.config import AttachmentSettings
from diarist.db.engine import Database
from diarist.models import Attachment, AttachmentBlob

_log = structlog.get_logger("diarist.attachments")
_COPY_BYTES = 1024 * 1024
# An object with no blob row is removed once this old (a store whose commit failed); younger
# ones may belong to an upload still in its transaction.
ORPHAN_AFTER = timedelta(days=1)
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class Staged:
    """An upload copied to a file of our own, with its digest and size."""

    path: Path
    size: int
    sha256: bytes


@dataclass(frozen=True)
class Attaching:
    """What a caller outside a request needs to attach files (imports): the store, the
    limits, and where to stage."""

    store: Store
    settings: AttachmentSettings
    staging: Path

    @classmethod
    def of(cls, settings: AttachmentSettings, data_dir: Path) -> Attaching:
        return cls(open_store(settings, data_dir), settings, staging_dir(data_dir))


@dataclass(frozen=True)
class Content:
    """What a request for an attachment's bytes is served: an object of the store."""

    key: str
    media_type: str
    size: int
    etag: str
    file_name: str


def staging_dir(data_dir: Path) -> Path:
    folder = data_dir / "attachments-staging"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def stage_upload(source: IO[bytes], folder: Path, max_bytes: int) -> Staged:
    """Copy `source` to a new file in `folder`, hashing it; refuses it past `max_bytes`
    (nothing left behind). Blocking: run it in a thread."""
    digest = hashlib.sha256()
    fd, name = tempfile.mkstemp(dir=folder, suffix=".upload")
    path, size = Path(name), 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(_COPY_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise AttachmentTooLarge(f"Attachments are limited to {max_bytes} bytes each.")
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Staged(path, size, digest.digest())


def clean_file_name(name: str | None, media_type: str) -> str:
    """The name a file was uploaded with, as we keep it: its last path part, without control
    characters, at most 255 characters; a name of its type when none is left."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_NAME.sub("", unicodedata.normalize("NFC", base)).strip().lstrip(".")
    if not base:
        base = f"attachment.{media.EXTENSIONS.get(media_type, 'bin')}"
    if len(base) > 255:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 254 - len(ext)] + dot + ext) if dot and len(ext) < 16 else base[:255]
    return base


# Images decoded at once per process: each may take hundreds of MB (a 200 MP photo).
_DECODING = CapacityLimiter(2)


async def inspect_file(staged: Staged, settings: AttachmentSettings) -> media.Inspected:
    """What the staged file is (media.inspect, in a thread; two at a time)."""
    try:
        return await to_thread.run_sync(
            media.inspect, staged.path, settings.thumbnail_px, limiter=_DECODING
        )
    except media.UnsupportedMedia as exc:
        raise UnsupportedMediaType(str(exc)) from None
    except media.DamagedMedia as exc:
        raise DamagedAttachment(str(exc)) from None


async def attach(
    session: AsyncSession,
    store: Store,
    settings: AttachmentSettings,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    staged: Staged,
    file_name: str | None,
    *,
    keep_location: bool = False,
    source_id: str | None = None,
    meta: dict[str, Any] | None = None,
) -> tuple[Attachment, AttachmentBlob, bool]:
    """Attach a staged file to the user's entry: stored unless the user has those bytes
    already (within the quota), then attached unless the entry has them already. The
    attachment, its blob, and whether it is new."""
    inspected = await inspect_file(staged, settings)
    await repo.lock_user(session, user_id)
    if not await repo.entry_exists(session, user_id, entry_id):
        raise AttachmentEntryNotFound("No such entry.")
    blob = await repo.get_blob(session, user_id, staged.sha256)
    if blob is not None:
        existing = await repo.find_on_entry(session, user_id, entry_id, staged.sha256)
        if existing is not None:
            return existing, blob, False
        if not await repo.blob_in_use(session, user_id, staged.sha256):
            # Named by nothing: the collector may have removed its objects already (its
            # commit failed after), so they are put again; the quota counts it anew.
            await _check_quota(session, settings, user_id, staged.size)
            await _put_objects(store, user_id, staged, _variants(inspected))
    else:
        blob = await _store_blob(session, store, settings, user_id, staged, inspected)
    row = await repo.insert_attachment(
        session,
        {
            "user_id": user_id, "entry_id": entry_id, "sha256": staged.sha256,
            "kind": inspected.kind, "file_name": clean_file_name(file_name, inspected.media_type),
            "width": inspected.width, "height": inspected.height, "keep_location": keep_location,
            "source_id": source_id, "meta": meta or {},
        },
    )  # fmt: skip
    return row, blob, True


async def _store_blob(
    session: AsyncSession,
    store: Store,
    settings: AttachmentSettings,
    user_id: uuid.UUID,
    staged: Staged,
    inspected: media.Inspected,
) -> AttachmentBlob:
    """New bytes for the user: the quota checked, the row written, the objects put (an
    object left by a transaction that then fails is collected a day later)."""
    await _check_quota(session, settings, user_id, staged.size)
    variants = _variants(inspected)
    await repo.insert_blob(
        session,
        {
            "user_id": user_id, "sha256": staged.sha256, "size_bytes": staged.size,
            "media_type": inspected.media_type, "has_location": inspected.has_location,
            "variants": {name: len(data) for name, data in variants.items()},
        },
    )  # fmt: skip
    await _put_objects(store, user_id, staged, variants)
    blob = await repo.get_blob(session, user_id, staged.sha256)
    assert blob is not None  # just written
    return blob


async def _check_quota(
    session: AsyncSession, settings: AttachmentSettings, user_id: uuid.UUID, size: int
) -> None:
    used, _ = await repo.get_usage(session, user_id)
    if used + size > settings.quota_bytes:
        raise QuotaExceeded(
            f"This file ({size} bytes) would take your attachments past your quota of "
            f"{settings.quota_bytes} bytes ({used} used)."
        )


def _variants(inspected: media.Inspected) -> dict[str, bytes]:
    """The objects stored beside an original, by name."""
    pairs = ((THUMBNAIL, inspected.thumbnail), (WITHOUT_LOCATION, inspected.without_location))
    return {name: data for name, data in pairs if data is not None}


async def _put_objects(
    store: Store, user_id: uuid.UUID, staged: Staged, variants: dict[str, bytes]
) -> None:
    await store.put(object_key(user_id, staged.sha256), staged.path)
    for name, data in variants.items():
        await store.put(object_key(user_id, staged.sha256, name), data)


async def upload_attachment(
    session: AsyncSession,
    attaching: Attaching,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    source: IO[bytes],
    file_name: str | None,
    *,
    keep_location: bool = False,
    source_id: str | None = None,
    meta: dict[str, Any] | None = None,
) -> tuple[Attachment, AttachmentBlob, bool]:
    """Attach a file read from `source` (an upload, an import's media), staged and removed
    again whatever happens: the attachment, its blob, and whether it is new to the entry."""
    staged = await to_thread.run_sync(
        stage_upload, source, attaching.staging, attaching.settings.max_file_bytes
    )
    try:
        return await attach(
            session, attaching.store, attaching.settings, user_id, entry_id, staged, file_name,
            keep_location=keep_location, source_id=source_id, meta=meta,
        )  # fmt: skip
    finally:
        staged.path.unlink(missing_ok=True)


async def attached_sources(
    session: AsyncSession, user_id: uuid.UUID, entry_ids: list[uuid.UUID]
) -> set[tuple[uuid.UUID, str]]:
    """(entry, source id) of the attachments these entries have from a source (a re-import
    leaves them alone)."""
    rows = await repo.list_attachments(session, user_id, entry_ids)
    return {(a.entry_id, a.source_id) for a, _ in rows if a.source_id is not None}


async def get_attachment(
    session: AsyncSession, user_id: uuid.UUID, attachment_id: uuid.UUID
) -> tuple[Attachment, AttachmentBlob]:
    found = await repo.get_attachment(session, user_id, attachment_id)
    if found is None:
        raise AttachmentNotFound("No such attachment.")
    return found


async def list_attachments(
    session: AsyncSession, user_id: uuid.UUID, entry_id: uuid.UUID | None
) -> list[tuple[Attachment, AttachmentBlob]]:
    if entry_id is not None and not await repo.entry_exists(session, user_id, entry_id):
        raise AttachmentEntryNotFound("No such entry.")
    return await repo.list_attachments(session, user_id, None if entry_id is None else [entry_id])


async def list_of_entries(
    session: AsyncSession, user_id: uuid.UUID, entry_ids: list[uuid.UUID]
) -> list[tuple[Attachment, AttachmentBlob]]:
    """The attachments of these entries (exports), by entry, oldest first."""
    return await repo.list_attachments(session, user_id, entry_ids)


def media_extension(media_type: str) -> str:
    """The usual file name ending of a kept media type."""
    return media.EXTENSIONS.get(media_type, "bin")


async def set_keep_location(
    session: AsyncSession, user_id: uuid.UUID, attachment_id: uuid.UUID, keep: bool
) -> tuple[Attachment, AttachmentBlob]:
    await get_attachment(session, user_id, attachment_id)
    await repo.set_keep_location(session, user_id, attachment_id, keep)
    session.expire_all()
    return await get_attachment(session, user_id, attachment_id)


async def delete_attachment(
    session: AsyncSession, user_id: uuid.UUID, attachment_id: uuid.UUID
) -> None:
    """Remove an attachment from its entry; its bytes go with the collector's next run when
    no other attachment names them."""
    if not await repo.delete_attachment(session, user_id, attachment_id):
        raise AttachmentNotFound("No such attachment.")


async def get_usage(session: AsyncSession, user_id: uuid.UUID) -> tuple[int, int]:
    return await repo.get_usage(session, user_id)


def locate_content(attachment: Attachment, blob: AttachmentBlob) -> Content:
    """The object an attachment's bytes are served from: the original, or its copy without a
    location when the original has one and the user did not keep it."""
    if blob.has_location and not attachment.keep_location:
        return Content(
            object_key(attachment.user_id, blob.sha256, WITHOUT_LOCATION), "image/jpeg",
            blob.variants[WITHOUT_LOCATION], f'"{blob.sha256.hex()}-noloc"',
            _with_extension(attachment.file_name, "jpg"),
        )  # fmt: skip
    return Content(
        object_key(attachment.user_id, blob.sha256), blob.media_type, blob.size_bytes,
        f'"{blob.sha256.hex()}"', attachment.file_name,
    )  # fmt: skip


def locate_thumbnail(attachment: Attachment, blob: AttachmentBlob) -> Content:
    if THUMBNAIL not in blob.variants:
        raise NoThumbnail("Only images have thumbnails.")
    return Content(
        object_key(attachment.user_id, blob.sha256, THUMBNAIL), "image/jpeg",
        blob.variants[THUMBNAIL], f'"{blob.sha256.hex()}-thumb"',
        _with_extension(attachment.file_name, "jpg"),
    )  # fmt: skip


def _with_extension(name: str, extension: str) -> str:
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem}.{extension}"


async def original_bytes(
    store: Store, attachment: Attachment, blob: AttachmentBlob
) -> AsyncIterator[bytes]:
    """The original's bytes (exports: the user's own file, location and all)."""
    async for chunk in store.read(object_key(attachment.user_id, blob.sha256)):
        yield chunk


async def stored_files(
    database: Database, user_id: uuid.UUID, *, store: Store
) -> AsyncIterator[tuple[str, AsyncIterator[bytes]]]:
    """Every file the user stores, once each, as `attachments/<sha-256 hex>` and its bytes
    (diarist's own export: `diarist import diarist` finds them by those names)."""
    async with database.unit_of_work(user_id=user_id) as session:
        digests = await repo.blob_digests(session, user_id)
    for sha256 in digests:
        yield f"attachments/{sha256.hex()}", store.read(object_key(user_id, sha256))


async def collect_unreferenced(
    database: Database, store: Store, staging: Path | None = None
) -> tuple[int, int]:
    """Remove the blobs no attachment names and their objects, user by user under the user's
    lock (no upload can name a blob meanwhile, nor put an object the collector then removes);
    then the objects no blob names that are older than ORPHAN_AFTER, also under each user's
    lock, and staged uploads as old (a request cut off, a crash). System role. How many blobs
    and stray objects went."""
    async with database.unit_of_work() as session:
        users = await repo.users_with_unreferenced_blobs(session)
    blobs = 0
    for user_id in users:
        async with database.unit_of_work() as session:
            await repo.lock_user(session, user_id)
            for sha256, variants in await repo.delete_unreferenced_blobs(session, user_id):
                # Before the commit, under the lock. Should the commit fail, the rows stay
                # and an upload of those bytes puts the objects again (`attach`).
                await store.delete(object_key(user_id, sha256))
                for name in variants:
                    await store.delete(object_key(user_id, sha256, name))
                blobs += 1
    strays = await _remove_strays(database, store)
    if staging is not None:
        await to_thread.run_sync(_remove_old_staged, staging)
    if blobs or strays:
        _log.info("attachments_collected", blobs=blobs, stray_objects=strays)
    return blobs, strays


async def _remove_strays(database: Database, store: Store) -> int:
    cutoff = datetime.now(UTC) - ORPHAN_AFTER
    old: dict[uuid.UUID, dict[bytes, list[str]]] = {}
    async for key, written in store.listing():
        parsed = _parse_key(key) if written < cutoff else None
        if parsed is not None:
            old.setdefault(parsed[0], {}).setdefault(parsed[1], []).append(key)
    removed = 0
    for user_id, objects in old.items():
        async with database.unit_of_work() as session:
            await repo.lock_user(session, user_id)
            known = await repo.known_blobs(session, [(user_id, d) for d in objects])
            for digest, keys in objects.items():
                if (user_id, digest) not in known:
                    for key in keys:
                        await store.delete(key)
                        removed += 1
    return removed


def _remove_old_staged(staging: Path) -> None:
    cutoff = (datetime.now(UTC) - ORPHAN_AFTER).timestamp()
    for path in staging.glob("*.upload") if staging.is_dir() else []:
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            continue


def _parse_key(key: str) -> tuple[uuid.UUID, bytes] | None:
    """The (user, digest) an object key belongs to, or None for a key not ours."""
    try:
        user, name = key.split("/", 1)
        digest = name.split(".", 1)[0]
        if len(digest) != 64 or (name != digest and name[65:] not in VARIANTS):
            return None
        return uuid.UUID(user), bytes.fromhex(digest)
    except ValueError:
        return None

"""Every query of attachments, under the owner's RLS (the collector's under the system role)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, exists, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.models import Attachment, AttachmentBlob, Entry

_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended('attachments:' || :user_id, 0))")


async def lock_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Serialise the user's stores and collections until the transaction ends: a quota is
    checked against what is stored, and a blob is never collected while a file names it."""
    await session.execute(_LOCK, {"user_id": str(user_id)})


async def entry_exists(session: AsyncSession, user_id: uuid.UUID, entry_id: uuid.UUID) -> bool:
    """The user's entry, live or in the trash."""
    query = select(exists().where(Entry.user_id == user_id, Entry.id == entry_id))
    return bool(await session.scalar(query))


async def blob_in_use(session: AsyncSession, user_id: uuid.UUID, sha256: bytes) -> bool:
    """An attachment names these bytes of the user."""
    query = select(exists().where(Attachment.user_id == user_id, Attachment.sha256 == sha256))
    return bool(await session.scalar(query))


async def get_blob(
    session: AsyncSession, user_id: uuid.UUID, sha256: bytes
) -> AttachmentBlob | None:
    """The user's blob of these bytes, if stored."""
    return await session.get(AttachmentBlob, (user_id, sha256))


def _named() -> Any:
    """The blob is named by an attachment (an unnamed one waits for the collector)."""
    return exists().where(
        Attachment.user_id == AttachmentBlob.user_id, Attachment.sha256 == AttachmentBlob.sha256
    )


async def get_usage(session: AsyncSession, user_id: uuid.UUID) -> tuple[int, int]:
    """The bytes the user stores (each distinct file once, those some attachment names) and
    how many files that is."""
    query = select(func.coalesce(func.sum(AttachmentBlob.size_bytes), 0), func.count()).where(
        AttachmentBlob.user_id == user_id, _named()
    )
    used, files = (await session.execute(query)).one()
    return int(used), int(files)


async def blob_digests(session: AsyncSession, user_id: uuid.UUID) -> list[bytes]:
    """The digests of every blob of the user, in order."""
    query = select(AttachmentBlob.sha256).where(AttachmentBlob.user_id == user_id)
    return [bytes(d) for d in (await session.scalars(query.order_by(AttachmentBlob.sha256)))]


async def insert_blob(session: AsyncSession, values: dict[str, Any]) -> None:
    """Record a stored object (its bytes are put by the caller)."""
    await session.execute(insert(AttachmentBlob).values(**values))


async def find_on_entry(
    session: AsyncSession, user_id: uuid.UUID, entry_id: uuid.UUID, sha256: bytes
) -> Attachment | None:
    """The entry's attachment of these bytes, if it has one."""
    query = select(Attachment).where(
        Attachment.user_id == user_id, Attachment.entry_id == entry_id, Attachment.sha256 == sha256
    )
    return (await session.scalars(query)).first()


async def insert_attachment(session: AsyncSession, values: dict[str, Any]) -> Attachment:
    """Attach a file to an entry; the new row."""
    row = Attachment(**values)
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


def _with_blob(user_id: uuid.UUID) -> Select[Attachment, AttachmentBlob]:
    """The user's attachments, each with its blob."""
    on_blob = (AttachmentBlob.user_id == Attachment.user_id) & (
        AttachmentBlob.sha256 == Attachment.sha256
    )
    return (
        select(Attachment, AttachmentBlob)
        .join(AttachmentBlob, on_blob)
        .where(Attachment.user_id == user_id)
    )


async def get_attachment(
    session: AsyncSession, user_id: uuid.UUID, attachment_id: uuid.UUID
) -> tuple[Attachment, AttachmentBlob] | None:
    """One of the user's attachments with its blob."""
    query = _with_blob(user_id).where(Attachment.id == attachment_id)
    found = (await session.execute(query)).first()
    return (found[0], found[1]) if found else None


async def list_attachments(
    session: AsyncSession, user_id: uuid.UUID, entry_ids: Sequence[uuid.UUID] | None = None
) -> list[tuple[Attachment, AttachmentBlob]]:
    """The user's attachments (of these entries), by entry, oldest first."""
    query = _with_blob(user_id)
    if entry_ids is not None:
        query = query.where(Attachment.entry_id.in_(entry_ids))
    query = query.order_by(Attachment.entry_id, Attachment.created_at, Attachment.id)
    return [(a, b) for a, b in (await session.execute(query)).all()]


async def set_keep_location(
    session: AsyncSession, user_id: uuid.UUID, attachment_id: uuid.UUID, keep: bool
) -> None:
    """Serve the original (with its location) or its copy without."""
    await session.execute(
        update(Attachment)
        .where(Attachment.user_id == user_id, Attachment.id == attachment_id)
        .values(keep_location=keep)
    )


async def delete_attachment(
    session: AsyncSession, user_id: uuid.UUID, attachment_id: uuid.UUID
) -> bool:
    """Remove an attachment; whether there was one."""
    result = await session.execute(
        delete(Attachment).where(Attachment.user_id == user_id, Attachment.id == attachment_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# The collector (system role: every user's rows).

_UNREFERENCED_USERS = text(
    """
    SELECT DISTINCT b.user_id FROM attachment_blobs b
    WHERE NOT EXISTS (SELECT 1 FROM attachments a
                      WHERE a.user_id = b.user_id AND a.sha256 = b.sha256)
    """
)
_DELETE_UNREFERENCED = text(
    """
    DELETE FROM attachment_blobs b
    WHERE b.user_id = :user_id
      AND NOT EXISTS (SELECT 1 FROM attachments a
                      WHERE a.user_id = b.user_id AND a.sha256 = b.sha256)
    RETURNING b.sha256, b.variants
    """
)


async def users_with_unreferenced_blobs(session: AsyncSession) -> list[uuid.UUID]:
    """Users with blobs no attachment names (system role)."""
    return list((await session.scalars(_UNREFERENCED_USERS)).all())


async def delete_unreferenced_blobs(
    session: AsyncSession, user_id: uuid.UUID
) -> list[tuple[bytes, list[str]]]:
    """Remove the user's blobs no attachment names (call under `lock_user`): each one's
    digest and the names of its variants."""
    rows = await session.execute(_DELETE_UNREFERENCED, {"user_id": user_id})
    return [(bytes(sha), list(variants)) for sha, variants in rows.all()]


async def known_blobs(
    session: AsyncSession, keys: Sequence[tuple[uuid.UUID, bytes]]
) -> set[tuple[uuid.UUID, bytes]]:
    """Which of these (user, digest) pairs have a blob row."""
    if not keys:
        return set()
    query = text(
        """
        SELECT b.user_id, b.sha256 FROM attachment_blobs b
        JOIN unnest(CAST(:users AS uuid[]), CAST(:digests AS bytea[])) AS k(user_id, sha256)
          ON k.user_id = b.user_id AND k.sha256 = b.sha256
        """
    )
    rows = await session.execute(
        query, {"users": [u for u, _ in keys], "digests": [d for _, d in keys]}
    )
    return {(u, bytes(d)) for u, d in rows.all()}

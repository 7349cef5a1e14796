"""Every query of the vault, under the user's tenant (RLS)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.models import SecretTag, VaultBlob, VaultLogin, VaultSession, VaultWrappedKey


async def new_id(session: AsyncSession) -> uuid.UUID:
    found = await session.scalar(text("SELECT uuidv7()"))
    assert isinstance(found, uuid.UUID)
    return found


async def get_tag(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID,
    lock: Literal["share", "update"] | None = None,
) -> SecretTag | None:  # fmt: skip
    """The tag, optionally locked (FOR SHARE / FOR UPDATE) and then read as it now is."""
    query = select(SecretTag).where(SecretTag.user_id == user_id, SecretTag.id == tag_id)
    if lock:
        query = query.with_for_update(read=lock == "share").execution_options(
            populate_existing=True
        )
    return (await session.scalars(query)).one_or_none()


async def list_tags(session: AsyncSession, user_id: uuid.UUID) -> list[SecretTag]:
    query = select(SecretTag).where(SecretTag.user_id == user_id).order_by(SecretTag.id)
    return list((await session.scalars(query)).all())


async def delete_tag(session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(SecretTag).where(SecretTag.user_id == user_id, SecretTag.id == tag_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def take_login(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, login_id: uuid.UUID,
    now: datetime,
) -> tuple[bytes, datetime, bytes | None] | None:  # fmt: skip
    """A pending login's sealed state, expiry and address counter, deleted as it is read (one
    KE3 a KE2)."""
    statement = (
        delete(VaultLogin)
        .where(
            VaultLogin.user_id == user_id,
            VaultLogin.tag_id == tag_id,
            VaultLogin.id == login_id,
            VaultLogin.expires_at > now,
        )
        .returning(VaultLogin.session_data, VaultLogin.expires_at, VaultLogin.address_key)
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        return None
    return bytes(row[0]), row[1], bytes(row[2]) if row[2] is not None else None


async def open_session(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, token_hash: bytes, now: datetime
) -> bool:
    query = select(VaultSession.id).where(
        VaultSession.user_id == user_id, VaultSession.tag_id == tag_id,
        VaultSession.token_hash == token_hash, VaultSession.expires_at > now,
    )  # fmt: skip
    return (await session.scalar(query)) is not None


async def end_sessions(session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID) -> None:
    """Every unlocked session of the tag, and every login waiting for its KE3."""
    for model in (VaultSession, VaultLogin):
        await session.execute(delete(model).where(model.user_id == user_id, model.tag_id == tag_id))


async def put_blob(session: AsyncSession, values: dict[str, Any]) -> VaultBlob:
    changing = {k: values[k] for k in ("key_id", "iv", "ciphertext", "auth_tag", "content_type")}
    statement = (
        pg_insert(VaultBlob)
        .values(**values)
        .on_conflict_do_update(
            constraint="uq_vault_blobs_tag_id_object_id",
            set_={**changing, "updated_at": func.now()},
        )
        .returning(VaultBlob)
    )
    return (await session.scalars(statement)).one()


async def get_blob(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, object_id: uuid.UUID
) -> VaultBlob | None:
    query = select(VaultBlob).where(
        VaultBlob.user_id == user_id, VaultBlob.tag_id == tag_id, VaultBlob.object_id == object_id
    )
    return (await session.scalars(query)).one_or_none()


async def list_blobs(session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID) -> list[Any]:
    query = (
        select(
            VaultBlob.object_id,
            VaultBlob.key_id,
            VaultBlob.content_type,
            func.octet_length(VaultBlob.ciphertext),
            VaultBlob.updated_at,
        )
        .where(VaultBlob.user_id == user_id, VaultBlob.tag_id == tag_id)
        .order_by(VaultBlob.object_id)
    )
    return list((await session.execute(query)).all())


async def delete_blob(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, object_id: uuid.UUID
) -> bool:
    result = await session.execute(
        delete(VaultBlob).where(
            VaultBlob.user_id == user_id,
            VaultBlob.tag_id == tag_id,
            VaultBlob.object_id == object_id,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def put_key(session: AsyncSession, values: dict[str, Any]) -> VaultWrappedKey:
    statement = (
        pg_insert(VaultWrappedKey)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_vault_wrapped_keys_tag_id_key_id")
        .returning(VaultWrappedKey)
    )
    return (await session.scalars(statement)).one_or_none()  # type: ignore[return-value]


async def list_keys(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID
) -> list[VaultWrappedKey]:
    query = (
        select(VaultWrappedKey)
        .where(VaultWrappedKey.user_id == user_id, VaultWrappedKey.tag_id == tag_id)
        .order_by(VaultWrappedKey.key_id)
    )
    return list((await session.scalars(query)).all())


async def swap_record(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, record: bytes, salt: bytes,
    setup_fingerprint: bytes, version: int,
) -> bool:  # fmt: skip
    """The new OPAQUE record, its OPRF salt and setup, and the next key version, if the
    version is still `version`."""
    result = await session.execute(
        update(SecretTag)
        .where(
            SecretTag.user_id == user_id, SecretTag.id == tag_id, SecretTag.key_version == version
        )
        .values(
            opaque_record=record,
            oprf_salt=salt,
            setup_fingerprint=setup_fingerprint,
            key_version=version + 1,
            updated_at=func.now(),
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def rewrap_key(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, key_id: uuid.UUID,
    wrapped: bytes, version: int,
) -> None:  # fmt: skip
    await session.execute(
        update(VaultWrappedKey)
        .where(
            VaultWrappedKey.user_id == user_id,
            VaultWrappedKey.tag_id == tag_id,
            VaultWrappedKey.key_id == key_id,
        )
        .values(wrapped=wrapped, key_version=version)
    )

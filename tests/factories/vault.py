"""Rows in every vault table for one user, for the tests that need every user-owned table
filled (the bytes are of the right sizes, not real OPAQUE or AES output)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from diarist.db.engine import act_as
from diarist.models import SecretTag, VaultBlob, VaultLogin, VaultSession, VaultWrappedKey


async def fill_vault(session: AsyncSession, user_id: uuid.UUID) -> None:
    """A secret tag with a pending login, an unlocked session, a wrapped key and a blob."""
    await act_as(session, user_id)
    tag = SecretTag(user_id=user_id, opaque_record=bytes(192))
    session.add(tag)
    await session.flush()
    later = datetime.now(UTC) + timedelta(minutes=1)
    key_id = uuid.uuid4()
    session.add_all(
        [
            VaultLogin(user_id=user_id, tag_id=tag.id, session_data=bytes(156), expires_at=later),
            VaultSession(
                user_id=user_id, tag_id=tag.id, token_hash=uuid.uuid4().bytes * 2, expires_at=later
            ),
            VaultWrappedKey(
                user_id=user_id, tag_id=tag.id, key_id=key_id, purpose="data", key_version=1,
                wrapped=bytes(40),
            ),
            VaultBlob(
                user_id=user_id, tag_id=tag.id, object_id=uuid.uuid4(), key_id=key_id,
                iv=bytes(12), ciphertext=bytes(256), auth_tag=bytes(16),
                content_type="application/vnd.diarist.entry+json",
            ),
        ]
    )  # fmt: skip
    await session.flush()

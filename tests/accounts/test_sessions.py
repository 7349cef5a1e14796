"""Session activity is written at most once a minute; idle and absolute expiry end sessions."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts.mailer import ConsoleMailer
from diarist.db.engine import act_as
from tests.factories.accounts import signed_up, user_id_of


async def _session_row(session: AsyncSession, user_id: uuid.UUID) -> dict[str, object]:
    await act_as(session, user_id)
    query = text(
        "SELECT id, last_used_at, expires_at, absolute_expires_at FROM auth_tokens "
        "WHERE user_id = :u AND kind = 'session'"
    )
    return dict((await session.execute(query, {"u": user_id})).mappings().one())


async def test_activity_is_recorded_at_most_once_a_minute(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    account = await signed_up(client)
    user_id = await user_id_of(client, account)
    first = await _session_row(session, user_id)
    await session.commit()
    await client.get("/api/v1/me", headers=account.auth)
    assert (await _session_row(session, user_id))["last_used_at"] == first["last_used_at"]

    # (Inside the test's single transaction now() stands still, so backdate to see a write.)
    await session.execute(
        text("UPDATE auth_tokens SET last_used_at = now() - interval '2 minutes' WHERE id = :id"),
        {"id": first["id"]},
    )
    backdated = await _session_row(session, user_id)
    await session.commit()
    await client.get("/api/v1/me", headers=account.auth)
    moved = await _session_row(session, user_id)
    assert moved["last_used_at"] > backdated["last_used_at"]  # type: ignore[operator]
    assert moved["expires_at"] <= moved["absolute_expires_at"]  # type: ignore[operator]


@pytest.mark.parametrize("column", ["expires_at", "absolute_expires_at"])
async def test_expired_sessions_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, column: str
) -> None:
    account = await signed_up(client)
    row = await _session_row(session, await user_id_of(client, account))
    await session.execute(
        text(f"UPDATE auth_tokens SET {column} = now() - interval '1 second' WHERE id = :id"),  # noqa: S608
        {"id": row["id"]},
    )
    await session.commit()
    refused = await client.get("/api/v1/me", headers=account.auth)
    assert (refused.status_code, refused.json()["code"]) == (401, "not_authenticated")


async def test_console_mailer_writes_the_message() -> None:
    stream = io.StringIO()
    await ConsoleMailer("diarist <d@example.org>", stream=stream).send(
        "a@example.org", "Hi", "Body"
    )
    assert "To: a@example.org" in stream.getvalue()
    assert "Subject: Hi" in stream.getvalue()

"""No password, token or code ever reaches the logs; deletion leaves nothing behind."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import service as accounts_service
from diarist.accounts.service import AccountsContext
from diarist.db.engine import Database, act_as
from tests.conftest import Mailbox
from tests.factories import media
from tests.factories.accounts import (
    PASSWORD,
    link_identity,
    login,
    signed_up,
    unique_email,
    user_id_of,
)
from tests.factories.insights import fill_statistics
from tests.factories.journal import analyze_entries, create_entry, fill_journal
from tests.factories.reminders import fill_reminders
from tests.factories.vault import fill_vault
from tests.fixtures.catalog import user_owned_tables

NEW_PASSWORD = "saffron-glacier-meadow-47"


async def test_no_secret_reaches_the_logs(
    client: httpx.AsyncClient, mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets: list[str] = [PASSWORD, NEW_PASSWORD, "Wrong-guess-password-1"]
    email = unique_email()
    await client.post(
        "/api/v1/auth/register", json={"email": email, "name": "L", "password": PASSWORD}
    )
    await client.post(
        "/api/v1/auth/login", json={"email": email, "password": "Wrong-guess-password-1"}
    )
    token = await login(client, email)
    secrets.append(token)
    auth = {"Authorization": f"Bearer {token}"}
    pat = await client.post("/api/v1/auth/tokens", json={"name": "p"}, headers=auth)
    secrets.append(pat.json()["token"])
    await client.post("/api/v1/auth/otp/request", json={"email": email})
    code = mailbox.last_code(email)
    secrets.append(code)
    otp = await client.post("/api/v1/auth/otp/login", json={"email": email, "code": code})
    secrets.append(otp.json()["access_token"])
    await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=auth,
    )
    await client.post("/api/v1/auth/logout", headers=auth)

    assert len(caplog.records) > 10, "the flows were logged"
    # aiosmtpd ("mail.log") is the receiving mail server in this test, not diarist: it sees the
    # message by design. Everything diarist and its libraries log is checked.
    logged = "\n".join(
        f"{record.getMessage()} {record.msg!r} {record.args!r}"
        for record in caplog.records
        if not record.name.startswith("mail.")
    )
    for secret in secrets:
        assert secret not in logged


async def test_admin_deactivated_account_cannot_sign_in(
    client: httpx.AsyncClient, session: AsyncSession, accounts_context: AccountsContext
) -> None:
    account = await signed_up(client)
    await act_as(session, await user_id_of(client, account))
    await accounts_service.set_active(session, accounts_context, account.email, active=False)
    await session.commit()
    assert (await client.get("/api/v1/me", headers=account.auth)).status_code == 401
    refused = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "account_inactive")


async def test_export_and_deletion_cover_every_user_owned_table(
    client: httpx.AsyncClient, session: AsyncSession, database: Database, mailbox: Mailbox
) -> None:
    account = await signed_up(client)
    await client.post("/api/v1/auth/tokens", json={"name": "p"}, headers=account.auth)
    await client.post("/api/v1/auth/otp/request", json={"email": account.email})
    await fill_journal(client, account.auth)
    user_id = await user_id_of(client, account)
    await analyze_entries(database, user_id)
    await fill_statistics(database, user_id)
    upload = {"file": ("j.txt", b"[2024-01-01 10:00] Imported.")}
    started = await client.post("/api/v1/imports", files=upload, data={"format": "jrnl"},
                                headers=account.auth)  # fmt: skip
    assert started.status_code == 202
    entry = await create_entry(client, account.auth)
    attached = await client.post(
        "/api/v1/attachments", files={"file": ("n.pdf", media.pdf())},
        data={"entry_id": entry["id"]}, headers=account.auth,
    )  # fmt: skip
    assert attached.status_code == 201
    await link_identity(session, user_id)
    await fill_reminders(session, user_id)
    await fill_vault(session, user_id)
    await session.commit()
    catalog = await user_owned_tables(session)

    exported = (await client.get("/api/v1/me/export", headers=account.auth)).json()["tables"]
    assert set(exported) == set(catalog), "every user-owned table is in the export"
    empty = [table for table, rows in exported.items() if not rows]
    assert empty == [], "the fixture puts rows in every table, and the export returns them"

    deleted = await client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=account.auth
    )
    assert deleted.status_code == 204
    await act_as(session, user_id)
    for table, owner in catalog.items():
        left = await session.scalar(
            text(f"SELECT count(*) FROM {table} WHERE {owner} = :id"),  # noqa: S608
            {"id": user_id},
        )
        assert left == 0, f"{table} still holds rows of the deleted user"

"""The security log as a chain of signed events, one chain a user: it holds as written;
a changed, removed or inserted row breaks it at that row; `diarist audit verify` says where."""

from __future__ import annotations

import itertools
import uuid

import httpx
import psycopg
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from diarist.accounts.event_chain import first_broken_link
from diarist.accounts.service import AccountsContext
from diarist.cli import cli
from diarist.db.engine import act_as
from diarist.db.provision import DatabaseUrls, libpq_url
from diarist.models import SecurityEvent
from tests.factories.accounts import PASSWORD, login, signed_up, user_id_of


async def _chain(session: AsyncSession, user_id: object) -> list[SecurityEvent]:
    await act_as(session, user_id)  # type: ignore[arg-type]
    query = select(SecurityEvent).where(SecurityEvent.user_id == user_id).order_by(SecurityEvent.id)
    return list((await session.scalars(query)).all())


async def test_the_chain_holds_and_breaks_where_it_was_changed(
    client: httpx.AsyncClient, session: AsyncSession, accounts_context: AccountsContext
) -> None:
    me = await signed_up(client)
    await client.post("/api/v1/auth/login", json={"email": me.email, "password": "Wrong-1-guess"})
    await login(client, me.email, PASSWORD)
    user_id = await user_id_of(client, me)
    keyring = accounts_context.keyring
    chain = await _chain(session, user_id)
    assert len(chain) >= 4
    assert chain[0].prev_signature is None
    assert all(
        later.prev_signature == earlier.signature for earlier, later in itertools.pairwise(chain)
    )
    assert first_broken_link(keyring, chain) is None

    second = chain[1]
    await session.execute(
        text("UPDATE security_events SET details = '{\"forged\": true}' WHERE id = :id"),
        {"id": second.id},
    )
    session.expire_all()
    broken = first_broken_link(keyring, await _chain(session, user_id))
    assert broken is not None
    assert (broken.event_id, broken.reason) == (
        second.id,
        "its signature does not match its content",
    )

    await session.execute(text("DELETE FROM security_events WHERE id = :id"), {"id": second.id})
    session.expire_all()
    broken = first_broken_link(keyring, await _chain(session, user_id))
    assert broken is not None
    assert (broken.event_id, broken.reason) == (
        chain[2].id,
        "it does not follow the event before it",
    )


def test_audit_verify_reports_the_first_broken_link(
    cli_env: dict[str, str], fresh_db: DatabaseUrls
) -> None:
    runner = CliRunner()
    created = runner.invoke(
        cli, ["user", "create", "--email", "chain@example.org", "--name", "C", "--no-password"],
        env=cli_env,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    with psycopg.connect(libpq_url(fresh_db.owner), autocommit=True) as conn:
        count = conn.execute("SELECT count(*) FROM security_events").fetchone()
    assert count is not None
    assert count[0] >= 1
    fine = runner.invoke(cli, ["audit", "verify"], env=cli_env)
    assert fine.exit_code == 0, fine.output
    assert "0 broken chain(s)" in fine.output
    assert "unsigned" not in fine.output
    with psycopg.connect(libpq_url(fresh_db.owner), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO security_events (id, user_id, event_type, details, created_at)"
            " SELECT '00000000-0000-7000-8000-000000000000', user_id, 'login', '{}', now()"
            " FROM security_events LIMIT 1"
        )
    headed = runner.invoke(cli, ["audit", "verify"], env=cli_env)
    assert headed.exit_code == 0, "an unsigned event at the head is allowed (before the chain)"
    assert "1 unsigned event(s) from before the chain, not checked" in headed.output
    with psycopg.connect(libpq_url(fresh_db.owner), autocommit=True) as conn:
        conn.execute("UPDATE security_events SET event_type = 'login'")
    broken = runner.invoke(cli, ["audit", "verify"], env=cli_env)
    assert broken.exit_code == 1
    assert "its signature does not match its content" in broken.output


async def test_events_carry_severity_and_request_id_under_the_signature(
    client: httpx.AsyncClient, session: AsyncSession, accounts_context: AccountsContext
) -> None:
    me = await signed_up(client)
    failed = await client.post(
        "/api/v1/auth/login",
        json={"email": me.email, "password": "Wrong-2-guess"},
        headers={"X-Request-ID": "req-wrong-guess"},
    )
    assert failed.status_code == 401
    page = (await client.get("/api/v1/me/security-events", headers=me.auth)).json()
    [wrong] = [event for event in page["items"] if event["event_type"] == "failed_login"]
    assert (wrong["severity"], wrong["request_id"]) == ("warning", "req-wrong-guess")
    assert {e["severity"] for e in page["items"] if e["event_type"] == "login"} == {"info"}

    user_id = await user_id_of(client, me)
    chain = await _chain(session, user_id)
    assert {event.chain_version for event in chain} == {2}
    assert first_broken_link(accounts_context.keyring, chain) is None
    await session.execute(
        text("UPDATE security_events SET severity = 'info' WHERE id = :id"),
        {"id": uuid.UUID(wrong["id"])},
    )
    session.expire_all()
    broken = first_broken_link(accounts_context.keyring, await _chain(session, user_id))
    assert broken is not None
    assert broken.event_id == uuid.UUID(wrong["id"])

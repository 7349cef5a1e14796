"""Deactivation, reactivation, deletion, export, and the admin CLI."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from diarist.analysis import jobs as analysis_jobs
from diarist.cli import cli
from diarist.db.jobs import defer_many, defer_once
from diarist.insights import jobs as insights_jobs
from tests.factories.accounts import PASSWORD, login, signed_up, user_id_of
from tests.factories.journal import create_entry


async def test_self_deactivation_and_reactivation_by_signing_in(client: httpx.AsyncClient) -> None:
    account = await signed_up(client)
    wrong = await client.post(
        "/api/v1/me/deactivate", json={"password": "not-my-password-1"}, headers=account.auth
    )
    assert (wrong.status_code, wrong.json()["code"]) == (403, "wrong_password")
    done = await client.post(
        "/api/v1/me/deactivate", json={"password": PASSWORD}, headers=account.auth
    )
    assert done.status_code == 204
    assert (await client.get("/api/v1/me", headers=account.auth)).status_code == 401
    token = await login(client, account.email)
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["is_active"] is True
    events = await client.get(
        "/api/v1/me/security-events", headers={"Authorization": f"Bearer {token}"}
    )
    assert {"deactivated", "reactivated"} <= {e["event_type"] for e in events.json()["items"]}


async def test_export_holds_everything_i_own_and_nothing_secret(client: httpx.AsyncClient) -> None:
    account = await signed_up(client)
    await client.post("/api/v1/auth/tokens", json={"name": "cli"}, headers=account.auth)
    other = await signed_up(client)

    response = await client.get("/api/v1/me/export", headers=account.auth)
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")
    document = response.json()
    assert document["format"] == "diarist-export"
    tables = document["tables"]
    assert [row["email"] for row in tables["users"]] == [account.email]
    assert len(tables["auth_tokens"]) == 2  # the session and the token
    assert {e["event_type"] for e in tables["security_events"]} >= {"register", "login"}
    text = response.text
    assert other.email not in text
    for secret in ("password_hash", "token_hash", "code_hash", "$argon2", account.token):
        assert secret not in text

    zipped = await client.get("/api/v1/me/export?format=zip", headers=account.auth)
    assert zipped.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        assert json.loads(archive.read("export.json"))["tables"].keys() == tables.keys()
    bad = await client.get("/api/v1/me/export?format=pdf", headers=account.auth)
    assert bad.status_code == 422


async def test_delete_account_needs_the_password(client: httpx.AsyncClient) -> None:
    account = await signed_up(client)
    refused = await client.request(
        "DELETE", "/api/v1/me", json={"password": "wrong-password-1"}, headers=account.auth
    )
    assert refused.json()["code"] == "wrong_password"
    assert (await client.get("/api/v1/me", headers=account.auth)).status_code == 200
    deleted = await client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=account.auth
    )
    assert deleted.status_code == 204
    assert (await client.get("/api/v1/me", headers=account.auth)).status_code == 401
    gone = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert gone.status_code == 401


async def _jobs_naming(session: AsyncSession, value: object) -> list[str]:
    """The status of every queued job whose row holds `value` anywhere (arguments, locks)."""
    rows = await session.execute(
        text(
            "SELECT status::text FROM procrastinate_jobs j "
            "WHERE strpos(to_jsonb(j)::text, :value) > 0 ORDER BY id"
        ),
        {"value": str(value)},
    )
    return [row[0] for row in rows]


async def test_deletion_leaves_no_job_that_names_the_user(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    account, other = await signed_up(client), await signed_up(client)
    user_id, other_id = await user_id_of(client, account), await user_id_of(client, other)
    entry = await create_entry(client, account.auth, "A walk by the river.")  # its analysis
    await create_entry(client, other.auth, "Their walk by the sea.")
    lock = f"refresh_statistics:{user_id}"
    assert await defer_once(
        session, insights_jobs.REFRESH_STATISTICS, lock=lock, user_id=str(user_id)
    )
    finished = await defer_many(
        session,
        analysis_jobs.ANALYZE_ENTRY,
        [{"entry_id": str(uuid.uuid4()), "user_id": str(user_id)} for _ in range(3)],
        lock_key="entry_id",
    )
    await session.execute(
        text(
            "UPDATE procrastinate_jobs SET status = s.status::procrastinate_job_status "
            "FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[])) AS s(id, status) "
            "WHERE procrastinate_jobs.id = s.id"
        ),
        {"ids": finished, "statuses": ["succeeded", "failed", "doing"]},
    )
    await session.commit()
    assert await _jobs_naming(session, user_id) == ["todo", "todo", "succeeded", "failed", "doing"]
    theirs = await _jobs_naming(session, other_id)
    assert theirs

    deleted = await client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=account.auth
    )
    assert deleted.status_code == 204
    assert await _jobs_naming(session, user_id) == []
    assert await _jobs_naming(session, entry["id"]) == []
    # The running job keeps its row (its worker finishes it by id), with nothing in it.
    running = await session.execute(
        text("SELECT args, lock, queueing_lock FROM procrastinate_jobs WHERE id = :id"),
        {"id": finished[2]},
    )
    assert running.one() == ({}, None, None)
    assert await _jobs_naming(session, other_id) == theirs


def test_user_cli(cli_env: dict[str, str]) -> None:
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = runner.invoke(cli, list(args), env=cli_env, input=stdin)
        return result.exit_code, result.output

    code, out = run("user", "create", "--email", "Admin@Example.org", "--name", "Admin",
                    "--password-stdin", stdin=f"{PASSWORD}\n")  # fmt: skip
    assert code == 0, out
    code, out = run(
        "user", "create", "--email", "otto@example.org", "--name", "Otto", "--no-password"
    )
    assert code == 0, out
    code, out = run("user", "create", "--email", "weak@example.org", "--name", "W",
                    "--password-stdin", stdin="password\n")  # fmt: skip
    assert code == 1
    assert "weak_password" in out

    def listed() -> dict[str, str]:
        code, out = run("user", "list", "--json")
        assert code == 0, out
        return {row["email"]: row["status"] for row in map(json.loads, out.splitlines())}

    assert listed() == {"admin@example.org": "active", "otto@example.org": "active"}
    assert "admin@example.org" in run("user", "list")[1]

    assert run("user", "deactivate", "admin@example.org")[0] == 0
    assert listed()["admin@example.org"] == "deactivated (admin)"
    assert run("user", "activate", "admin@example.org")[0] == 0
    code, out = run("user", "reset-password", "otto@example.org", "--password-stdin",
                    stdin="cobalt-meadow-ferry-58\n")  # fmt: skip
    assert code == 0, out
    code, out = run("user", "deactivate", "nobody@example.org")
    assert code == 1
    assert "user_not_found" in out

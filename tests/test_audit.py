"""The row audit trail: what a request writes is recorded with its actor, request id and
changed columns, diary text only as a SHA-256 and a length; each user reads only their own
trail and writes none of it; partitions are kept by month and dropped past retention; an
erased account takes its trail along; the daily retention job purges what grows."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.app import create_app
from diarist.audit import repository as audit_repo
from diarist.audit.retention import run_retention
from diarist.db.engine import Database, PoolPlan, act_as, create_engine
from diarist.db.provision import DatabaseUrls, libpq_url
from tests.conftest import make_settings
from tests.factories.accounts import PASSWORD, Account, signed_up, user_id_of
from tests.factories.journal import create_entry
from tests.factories.vault import fill_vault

MARKER = "zebra-quartz-lullaby"


async def _trail(client: httpx.AsyncClient, me: Account, **params: Any) -> list[dict[str, Any]]:
    page = await client.get("/api/v1/me/audit", params=params, headers=me.auth)
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = page.json()["items"]
    return items


async def test_a_requests_writes_are_in_my_trail_without_their_text(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    me, other = await signed_up(client), await signed_up(client)
    made = await client.post(
        "/api/v1/entries",
        json={"title": f"Secret {MARKER}", "raw_data": {"format": "markdown", "text": MARKER},
              "tags": [f"tag-{MARKER}"]},
        headers={**me.auth, "X-Request-ID": "req-create-1"},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    entry = made.json()
    changed = await client.patch(
        f"/api/v1/entries/{entry['id']}", json={"title": f"Still {MARKER}", "starred": True},
        headers={**me.auth, "X-Request-ID": "req-edit-1"},
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert (
        await client.delete(f"/api/v1/entries/{entry['id']}", headers=me.auth)
    ).status_code == 204

    trail = await _trail(client, me, table="entries")
    by_request = {item["request_id"]: item for item in trail}
    inserted = by_request["req-create-1"]
    assert (inserted["operation"], inserted["actor"], inserted["row_key"]) == (
        "INSERT", "me", entry["id"]
    )  # fmt: skip
    title = f"Secret {MARKER}"
    assert inserted["new_values"]["title"] == {
        "sha256": hashlib.sha256(title.encode()).hexdigest(), "length": len(title)
    }  # fmt: skip
    assert "search_vector" not in inserted["new_values"], "derived words are left out"
    edited = by_request["req-edit-1"]
    assert edited["operation"] == "UPDATE"
    assert sorted(edited["changed"]) == ["starred", "title", "version"]
    assert (edited["old_values"]["starred"], edited["new_values"]["starred"]) == (False, True)
    assert set(edited["new_values"]) == {"starred", "title", "version"}
    assert any(
        item["operation"] == "UPDATE" and item["changed"] == ["deleted_at"] for item in trail
    )
    tag_rows = await _trail(client, me, table="tags")
    assert [row["operation"] for row in tag_rows] == ["INSERT"]
    assert await _trail(client, other) != []  # their own sign-up
    assert all(row["table_name"] == "users" for row in await _trail(client, other))

    await act_as(session, await user_id_of(client, me))
    found = await session.scalar(
        text(
            "SELECT count(*) FROM audit_log WHERE concat_ws(' ', row_key, old_values::text,"
            " new_values::text, changed::text) LIKE :marker"
        ),
        {"marker": f"%{MARKER}%"},
    )
    mine = await session.scalar(text("SELECT count(*) FROM audit_log"))
    assert mine
    assert found == 0, "no diary text in the audit trail"


async def test_my_trail_pages_and_refuses_bad_queries(client: httpx.AsyncClient) -> None:
    me = await signed_up(client)
    for n in range(5):
        await create_entry(client, me.auth, f"Day {n}.")
    first = await client.get("/api/v1/me/audit?table=entries&limit=3", headers=me.auth)
    page = first.json()
    assert len(page["items"]) == 3
    rest = await client.get(
        "/api/v1/me/audit", params={"table": "entries", "cursor": page["next_cursor"]},
        headers=me.auth,
    )  # fmt: skip
    assert len(rest.json()["items"]) == 2
    assert rest.json()["next_cursor"] is None
    keys = [item["row_key"] for item in page["items"] + rest.json()["items"]]
    assert len(set(keys)) == 5
    one = await _trail(client, me, row=keys[0])
    assert [item["row_key"] for item in one] == [keys[0]]
    cases: list[tuple[dict[str, str | int], int, str]] = [
        ({"table": "audit_log"}, 422, "validation_error"),
        ({"limit": 0}, 422, "validation_error"),
        ({"cursor": "nonsense"}, 400, "invalid_cursor"),
        ({"surprise": 1}, 422, "validation_error"),
    ]
    for params, status, code in cases:
        refused = await client.get("/api/v1/me/audit", params=params, headers=me.auth)
        assert refused.status_code == status, (params, refused.text)
        assert refused.json()["code"] == code
    assert (await client.get("/api/v1/me/audit")).status_code == 401


@dataclass
class Live:
    """An app on a database of its own whose transactions commit, and the roles' URLs."""

    client: httpx.AsyncClient
    urls: DatabaseUrls
    system: Database

    def as_role(self, role: str) -> psycopg.Connection[Any]:
        url = {"app": self.urls.app, "owner": self.urls.owner, "system": self.urls.system}[role]
        return psycopg.connect(libpq_url(url), autocommit=True)


@pytest.fixture
async def live(fresh_db: DatabaseUrls, tmp_path: Path) -> AsyncIterator[Live]:
    settings = make_settings(fresh_db, tmp_path)
    app_db = Database(
        create_engine(fresh_db.app, settings.db, PoolPlan(2, 0), application_name="t")
    )
    system = Database(
        create_engine(fresh_db.system, settings.db, PoolPlan(2, 0), application_name="t-sys")
    )
    app = create_app(settings, database=app_db)
    transport = httpx.ASGITransport(app=app)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as client,
        ):
            yield Live(client, fresh_db, system)
    finally:
        await app_db.dispose()
        await system.dispose()


async def test_nobody_writes_the_trail_or_reads_a_partition_directly(live: Live) -> None:
    me = await signed_up(live.client)
    await create_entry(live.client, me.auth, "Hello.")
    month = f"audit_log_p{datetime.now(UTC):%Y%m}"
    for role in ("app", "system"):
        with live.as_role(role) as conn:
            for statement in (
                "INSERT INTO audit_log (user_id, actor_role, table_name, operation, row_key)"
                " VALUES (uuidv7(), 'x', 'entries', 'INSERT', 'x')",
                "DELETE FROM audit_log",
                "UPDATE audit_log SET row_key = 'forged'",
                f"SELECT count(*) FROM {month}",  # noqa: S608 (a table name the test makes)
                "SELECT count(*) FROM audit_log_default",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
    with live.as_role("app") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT audit_partitions_ensure(3)")
    with live.as_role("system") as conn:
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone() == (2,)


async def test_partitions_are_made_ahead_moved_into_and_dropped(live: Live) -> None:
    me = await signed_up(live.client)
    today = datetime.now(UTC).date()
    later = _month(today, 5)
    # A row of a month no partition covers yet waits in the default partition.
    with live.as_role("owner") as conn:
        conn.execute(
            "INSERT INTO audit_log (at, user_id, actor_role, table_name, operation, row_key)"
            " VALUES (%s, uuidv7(), 'x', 'entries', 'INSERT', 'early')",
            (datetime(later.year, later.month, 2, tzinfo=UTC),),
        )
        assert conn.execute("SELECT count(*) FROM audit_log_default").fetchone() == (1,)
    async with live.system.unit_of_work() as session:
        assert await audit_repo.ensure_partitions(session, 6) == 3  # months 4, 5 and 6 ahead
        assert await audit_repo.ensure_partitions(session, 6) == 0
    with live.as_role("owner") as conn:
        assert conn.execute("SELECT count(*) FROM audit_log_default").fetchone() == (0,)
        moved = conn.execute(f"SELECT row_key FROM audit_log_p{later:%Y%m}").fetchall()  # noqa: S608
        assert moved == [("early",)]
    await create_entry(live.client, me.auth, "Written this month.")
    async with live.system.unit_of_work() as session:
        assert await audit_repo.drop_partitions(session, _month(today, 1)) == 1
    with live.as_role("system") as conn:
        before = conn.execute("SELECT count(*) FROM audit_log WHERE at < %s", (_month(today, 1),))
        assert before.fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone() == (1,)  # the early one
    # Writes go on (this month falls in the default partition until it is made again).
    await create_entry(live.client, me.auth, "Still writing.")
    async with live.system.unit_of_work() as session:
        assert await audit_repo.ensure_partitions(session, 0) == 1


async def test_an_erased_account_takes_its_trail_along(live: Live) -> None:
    me, other = await signed_up(live.client), await signed_up(live.client)
    await create_entry(live.client, me.auth, "Mine.")
    await create_entry(live.client, other.auth, "Theirs.")
    mine = await user_id_of(live.client, me)
    gone = await live.client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORD},
        headers=me.auth,
    )  # fmt: skip
    assert gone.status_code == 204, gone.text
    with live.as_role("system") as conn:
        left = conn.execute("SELECT count(*) FROM audit_log WHERE user_id = %s", (mine,))
        assert left.fetchone() == (0,)
        kept = conn.execute("SELECT count(*) FROM audit_log").fetchone()
    assert kept is not None
    assert kept[0] >= 2, "the other account's trail stays"


async def test_a_session_cannot_hide_its_writes_or_wipe_a_live_accounts_trail(
    live: Live,
) -> None:
    """What the erasing of an account allows (no trail for its cascade, its trail forgotten)
    holds only once its row is gone: the application's role, acting for an account that is
    still there, neither writes untrailed nor forgets its trail."""
    me = await signed_up(live.client)
    await create_entry(live.client, me.auth, "Still here.")
    mine = str(await user_id_of(live.client, me))
    with live.as_role("app") as conn:
        conn.execute("SELECT set_config('diarist.user_id', %s, false)", (mine,))
        with pytest.raises(psycopg.errors.ObjectInUse, match="delete it first"):
            conn.execute("SELECT audit_forget(%s)", (mine,))
        before = conn.execute("SELECT count(*) FROM audit_log").fetchone()
        for flag in ("on", mine):
            conn.execute("SELECT set_config('diarist.erasing', %s, false)", (flag,))
            conn.execute("UPDATE entries SET title = %s", (f"hidden? {flag}",))
        after = conn.execute("SELECT count(*) FROM audit_log").fetchone()
    assert before is not None
    assert after is not None
    assert after[0] == before[0] + 2, "both writes are in the trail"


async def test_the_retention_job_purges_what_grows(live: Live) -> None:
    me = await signed_up(live.client)
    await live.client.post(
        "/api/v1/entries", json={"raw_data": {"format": "markdown", "text": "Once."}},
        headers={**me.auth, "Idempotency-Key": "k-1"},
    )  # fmt: skip
    with live.as_role("system") as conn:
        conn.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status)"
            " VALUES ('maintenance', 'ops:ping', '{}', 'succeeded')"
        )
    async with live.system.unit_of_work() as session:
        await fill_vault(session, await user_id_of(live.client, me))
    later = datetime.now(UTC) + timedelta(days=400)
    settings = make_settings(live.urls, Path("/tmp")).retention
    done = await run_retention(live.system, settings, later)
    assert done["ended_sessions"] >= 1
    assert done["idempotency_keys"] == 1
    assert done["security_events"] >= 1
    assert done["audit_partitions_dropped"] >= 1
    assert done["finished_jobs"] >= 1
    assert (done["vault_logins"], done["vault_sessions"]) == (1, 1)
    with live.as_role("system") as conn:
        assert conn.execute(
            "SELECT count(*) FROM entries WHERE idempotency_key IS NOT NULL"
        ).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM security_events").fetchone() == (0,)
    again = await run_retention(live.system, settings, later)
    assert again["idempotency_keys"] == again["security_events"] == 0


def _month(day: date, ahead: int) -> date:
    index = day.year * 12 + day.month - 1 + ahead
    return date(index // 12, index % 12 + 1, 1)

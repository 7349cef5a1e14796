"""Tenant isolation: every user-owned table is walled off by row-level security, not by our
queries alone. The checks run as the application role with the application's filter removed."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import service as accounts_service
from diarist.accounts.export import user_owned_tables as exported_tables
from diarist.accounts.mailer import ConsoleMailer
from diarist.accounts.secrets import Keyring
from diarist.accounts.service import AccountsContext, Client
from diarist.attachments import service as attachments_service
from diarist.attachments.store import FileStore
from diarist.config import AttachmentSettings
from diarist.db.engine import TENANT_KEY, Database, PoolPlan, act_as, create_engine
from diarist.db.provision import DatabaseUrls, libpq_url
from diarist.imports import service as imports_service
from diarist.kit.clock import SystemClock
from tests.conftest import make_settings
from tests.factories import media
from tests.factories.accounts import PASSWORD, link_identity, unique_email
from tests.factories.insights import fill_statistics
from tests.factories.journal import analyze_entries, fill_journal_with_services
from tests.factories.reminders import fill_reminders
from tests.factories.vault import fill_vault
from tests.fixtures.catalog import NOT_USER_OWNED, table_security, user_owned_tables

MODEL_TABLES = {table.name: owner.name for table, owner in exported_tables()}
CLIENT = Client(ip="192.0.2.7", user_agent="rls-test")


async def populate(database: Database, ctx: AccountsContext) -> tuple[uuid.UUID, uuid.UUID]:
    """Two users with rows in every user-owned table, made by the real services."""
    ids = []
    for _ in range(2):
        email = unique_email("rls")
        async with database.unit_of_work() as session:
            user, _mail = await accounts_service.register(
                session, ctx, email=email, name="R", password=PASSWORD, client=CLIENT
            )
            ids.append(user.id)
        async with database.unit_of_work() as session:
            await accounts_service.login(
                session, ctx, email=email, password=PASSWORD, client=CLIENT
            )
        async with database.unit_of_work() as session:
            await accounts_service.request_code(session, ctx, email=email, purpose="login")
        async with database.unit_of_work(user_id=ids[-1]) as session:
            await fill_journal_with_services(session, ids[-1])
        await analyze_entries(database, ids[-1])
        await fill_statistics(database, ids[-1])
        async with database.unit_of_work(user_id=ids[-1]) as session:
            upload = io.BytesIO(b"[2024-01-01 10:00] An imported entry.")
            data_dir = ctx.settings.data_dir
            await imports_service.start_import(
                session, ids[-1], "jrnl", upload, "j.txt", dry_run=True, data_dir=data_dir
            )
        async with database.unit_of_work(user_id=ids[-1]) as session:
            await _attach_a_file(session, ids[-1], ctx.settings.data_dir)
            await link_identity(session, ids[-1])
            await fill_reminders(session, ids[-1])
            await fill_vault(session, ids[-1])
    return ids[0], ids[1]


async def _attach_a_file(session: AsyncSession, user_id: uuid.UUID, data_dir: Path) -> None:
    entry_id = await session.scalar(text("SELECT id FROM entries LIMIT 1"))
    folder = attachments_service.staging_dir(data_dir)
    staged = attachments_service.stage_upload(io.BytesIO(media.pdf()), folder, 1024**2)
    store = FileStore(data_dir / "attachments")
    await attachments_service.attach(
        session, store, AttachmentSettings(), user_id, entry_id, staged, "notes.pdf"
    )


# Tables the application role may only read (their writes are refused outright; tested in
# tests/test_audit.py).
READ_ONLY = frozenset({"audit_log"})


async def isolation_problems(
    session: AsyncSession, table: str, owner: str, me: uuid.UUID, other: uuid.UUID
) -> list[str]:
    """What is wrong with `table`'s wall between `me` and `other` (empty when all is well)."""
    problems = []
    await session.execute(text("SELECT set_config('diarist.user_id', '', true)"))
    session.info.pop(TENANT_KEY, None)
    if await session.scalar(text(f"SELECT count(*) FROM {table}")):  # noqa: S608
        problems.append("rows are visible with no user set")
    await act_as(session, me)
    counts = (
        await session.execute(
            text(f"SELECT count(*), count(*) FILTER (WHERE {owner} = :me) FROM {table}"),  # noqa: S608
            {"me": me},
        )
    ).one()
    if counts[0] != counts[1]:
        problems.append(f"{counts[0] - counts[1]} rows of another user are visible")
    if counts[1] == 0:
        problems.append("my own rows are not visible")
    if table in READ_ONLY:
        return problems
    touched = await session.execute(
        text(f"UPDATE {table} SET {owner} = {owner} WHERE {owner} = :other"),  # noqa: S608
        {"other": other},
    )
    if touched.rowcount:  # type: ignore[attr-defined]
        problems.append("another user's rows can be updated")
    return problems


@pytest.fixture
async def two_users(
    database: Database, accounts_context: AccountsContext
) -> tuple[uuid.UUID, uuid.UUID]:
    return await populate(database, accounts_context)


async def test_catalog_and_models_agree_on_user_owned_tables(session: AsyncSession) -> None:
    assert await user_owned_tables(session) == MODEL_TABLES


async def test_every_table_has_forced_rls_or_is_declared_not_user_owned(
    session: AsyncSession,
) -> None:
    security = await table_security(session)
    unprotected = {
        name: state
        for name, state in security.items()
        if (name not in NOT_USER_OWNED and state != (True, True, state[2]))
        or (name not in NOT_USER_OWNED and state[2] == 0)
    }
    assert unprotected == {}, "a new table needs RLS (enable, force, policy) or a declaration"
    assert NOT_USER_OWNED.isdisjoint(MODEL_TABLES)


@pytest.mark.parametrize(("table", "owner"), sorted(MODEL_TABLES.items()))
async def test_rls_walls_off_each_user_owned_table(
    session: AsyncSession, two_users: tuple[uuid.UUID, uuid.UUID], table: str, owner: str
) -> None:
    me, other = two_users
    assert await isolation_problems(session, table, owner, me, other) == []
    assert await isolation_problems(session, table, owner, other, me) == []


@pytest.mark.parametrize(
    "sabotage",
    [
        "DROP POLICY security_events_owner_only ON security_events",
        "ALTER TABLE security_events NO FORCE ROW LEVEL SECURITY",
    ],
)
async def test_the_check_fails_when_protection_is_removed(
    fresh_db: DatabaseUrls, tmp_path: Path, sabotage: str
) -> None:
    settings = make_settings(fresh_db, tmp_path)
    ctx = AccountsContext(
        settings=settings,
        keyring=Keyring(SecretStr("k" * 48)),
        mailer=ConsoleMailer("t@example.org", stream=io.StringIO()),
        clock=SystemClock(),
    )
    engine = create_engine(fresh_db.app, settings.db, PoolPlan(2, 0), application_name="t")
    database = Database(engine)
    try:
        me, other = await populate(database, ctx)
        with psycopg.connect(libpq_url(fresh_db.owner), autocommit=True) as owner:
            owner.execute(sabotage)
            if "NO FORCE" in sabotage:  # make the application role the owner's equal
                owner.execute("ALTER TABLE security_events DISABLE ROW LEVEL SECURITY")
        async with database.unit_of_work() as session:
            problems = await isolation_problems(session, "security_events", "user_id", me, other)
    finally:
        await database.dispose()
    assert problems, "removing the protection must make the isolation check fail"

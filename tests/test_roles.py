"""The three roles: owner migrates, the application role is bound by RLS, system bypasses it."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import text

from diarist.config import DatabaseSettings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls, libpq_url

SETTING = text("SELECT current_setting('diarist.user_id', true)")
BACKEND = text("SELECT pg_backend_pid()")


def single_connection(urls: DatabaseUrls, settings: DatabaseSettings) -> Database:
    return Database(create_engine(urls.app, settings, PoolPlan(1, 0), application_name="t"))


async def _write_then_fail(database: Database) -> None:
    async with database.unit_of_work() as session:
        await session.execute(text("INSERT INTO scratch VALUES (1)"))
        raise RuntimeError("fail after the write")


def _role_flags(urls: DatabaseUrls, role: str) -> tuple[bool, bool]:
    with psycopg.connect(libpq_url(urls.owner)) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (role,)
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_role_attributes(test_db: DatabaseUrls, db_settings: DatabaseSettings) -> None:
    assert _role_flags(test_db, db_settings.app_role) == (False, False)
    # The owner bypasses RLS for its SECURITY DEFINER lookups; it serves no request.
    assert _role_flags(test_db, db_settings.owner_role) == (False, True)
    assert _role_flags(test_db, db_settings.system_role) == (False, True)


def test_application_role_owns_nothing_and_cannot_create(
    test_db: DatabaseUrls, db_settings: DatabaseSettings
) -> None:
    with psycopg.connect(libpq_url(test_db.app)) as conn:
        owned = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE tableowner = current_user"
        ).fetchone()
        assert owned == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE public.sneaky (id int)")


def test_application_role_can_use_queue_tables(test_db: DatabaseUrls) -> None:
    with psycopg.connect(libpq_url(test_db.app)) as conn:
        assert conn.execute("SELECT count(*) FROM procrastinate_jobs").fetchone() is not None
        conn.rollback()


async def test_tenant_setting_is_transaction_local(
    test_db: DatabaseUrls, db_settings: DatabaseSettings
) -> None:
    """The user id is set per transaction and gone for the next user of the connection."""
    database = single_connection(test_db, db_settings)
    user_id = uuid.uuid4()
    try:
        async with database.unit_of_work(user_id=user_id) as session:
            seen = await session.scalar(SETTING)
            first_backend = await session.scalar(BACKEND)
        async with database.unit_of_work() as session:
            after = await session.scalar(SETTING)
            second_backend = await session.scalar(BACKEND)
    finally:
        await database.dispose()
    assert seen == str(user_id)
    assert first_backend == second_backend, "a pool of one reuses the connection"
    assert after in ("", None)


async def test_unit_of_work_commits_or_rolls_back(
    test_db: DatabaseUrls, db_settings: DatabaseSettings
) -> None:
    database = single_connection(test_db, db_settings)
    try:
        async with database.unit_of_work() as session:
            await session.execute(text("CREATE TEMP TABLE scratch (n int)"))
        with pytest.raises(RuntimeError, match="after the write"):
            await _write_then_fail(database)
        async with database.unit_of_work() as session:
            await session.execute(text("INSERT INTO scratch VALUES (2)"))
        async with database.unit_of_work() as session:
            rows = (await session.execute(text("SELECT n FROM scratch"))).scalars().all()
    finally:
        await database.dispose()
    assert rows == [2]

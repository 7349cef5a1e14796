"""A hot read's connection goes back to the pool as it came: idle, out of autocommit, so the
next unit of work on it is one transaction again, even after a statement failed."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from diarist.config import Settings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.pipeline import Statement, driver_connection, read_in_one_trip
from diarist.db.provision import DatabaseUrls


async def test_a_failed_hot_read_leaves_a_connection_that_is_one_transaction_again(
    fresh_db: DatabaseUrls, settings: Settings
) -> None:
    database = Database(
        create_engine(fresh_db.owner, settings.db, PoolPlan(1, 0), application_name="t")
    )

    async def insert_twice() -> None:
        async with database.unit_of_work() as session:
            await session.execute(text("INSERT INTO pipeline_probe VALUES (1)"))
            await session.execute(text("INSERT INTO pipeline_probe VALUES (1)"))

    try:
        async with database.unit_of_work() as session:
            await session.execute(text("CREATE TABLE pipeline_probe (n int PRIMARY KEY)"))
        with pytest.raises(psycopg.errors.DivisionByZero):
            async with database.unit_of_work() as session:
                await read_in_one_trip(session, [Statement("SELECT 1 / %(zero)s", {"zero": 0})])
        async with database.unit_of_work() as session:
            conn = await driver_connection(session)
            assert conn.autocommit is False
            rows = await read_in_one_trip(session, [Statement("SELECT %(n)s AS n", {"n": 7})])
            assert [row.n for row in rows[0]] == [7]
        # The same pooled connection, for a unit of work whose second statement fails:
        # nothing of the first may stay.
        with pytest.raises(IntegrityError):
            await insert_twice()
        async with database.unit_of_work() as session:
            assert await session.scalar(text("SELECT count(*) FROM pipeline_probe")) == 0
    finally:
        await database.dispose()

"""A hot request in one or two round trips: its statements go to PostgreSQL in one flush per
trip (psycopg's pipeline mode) on the request's own connection, inside the request's own
transaction. A read is one trip; a write two (the token check, then the writes).

The first statement is the token check (`auth_resolve_token`, which sets the tenant for the
transaction); the others read under RLS through `diarist_current_user_id()`, so they need no
answer from the first before they are sent. A transaction the request began here is
committed in the same flush (BEGIN ... COMMIT), so the unit of work's commit afterwards has
nothing to send; a transaction open already (a test's, a savepoint) is left to its owner.
See docs/architecture.md ("Hot reads").
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus
from psycopg.rows import namedtuple_row
from psycopg.types.json import Jsonb
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ClauseElement


@dataclass(frozen=True)
class Statement:
    """SQL in psycopg's `%(name)s` style with its parameters (never values in the text)."""

    sql: str
    params: Mapping[str, Any]


_DRIVER_DIALECT = PGDialect_psycopg()  # type: ignore[no-untyped-call]


def compile_for_driver(query: ClauseElement) -> tuple[str, dict[str, Any]]:
    """A SQLAlchemy statement as psycopg SQL and its constant parameters (JSON documents
    wrapped for psycopg). Compiling costs about a millisecond: cache the result per shape,
    with every varying value a named `bindparam`."""
    compiled = query.compile(dialect=_DRIVER_DIALECT)
    # Named parameters without a value are left out: a caller that forgets one gets an error
    # from psycopg, not NULL (a `LIMIT NULL` would read every row).
    constants = {
        name: Jsonb(value) if isinstance(value, dict) else value
        for name, value in compiled.params.items()
        if value is not None
    }
    return str(compiled), constants


async def driver_connection(session: AsyncSession) -> AsyncConnection[Any]:
    """The psycopg connection under the session's transaction (begun if need be)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    return driver


class Transaction:
    """One transaction on the session's connection, sent in as few round trips as it needs:
    each `send` is one flush. The first opens the transaction (when the session had none),
    the one marked `last` commits it; a failure anywhere rolls it back."""

    def __init__(self, conn: AsyncConnection[Any], owned: bool) -> None:
        self._conn = conn
        self._owned = owned
        self._begun = False
        self._prepare = None if conn.prepare_threshold is None else True

    async def send(self, statements: Sequence[Statement], *, last: bool = False) -> list[list[Any]]:
        """Send every statement at once (server-side prepared unless prepared statements
        are off) and return each one's rows as named tuples (none for a statement that
        returns no rows)."""
        conn, cursors = self._conn, []
        async with conn.pipeline():
            if self._owned and not self._begun:
                await conn.execute("BEGIN")
                self._begun = True
            for statement in statements:
                cursor = conn.cursor(row_factory=namedtuple_row)
                await cursor.execute(statement.sql, statement.params, prepare=self._prepare)
                cursors.append(cursor)
            if self._owned and last:
                await conn.execute("COMMIT")
        return [await c.fetchall() if c.description is not None else [] for c in cursors]


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[Transaction]:
    """A transaction in round trips (`Transaction.send`). The session must not be used for
    anything else meanwhile, nor afterwards without setting the tenant again (`act_as`):
    when the transaction began here, it has ended, and with it the tenant."""
    conn = await driver_connection(session)
    owned = conn.info.transaction_status == TransactionStatus.IDLE
    if owned:
        # psycopg would send its own BEGIN and wait for it; ours travels with the statements.
        await conn.set_autocommit(True)
    try:
        yield Transaction(conn, owned)
    finally:
        if owned:
            await _restore(session, conn)


async def read_in_one_trip(
    session: AsyncSession, statements: Sequence[Statement]
) -> list[list[Any]]:
    """A read in one round trip: BEGIN, every statement and COMMIT in one flush; each
    statement's rows as named tuples."""
    async with transaction(session) as reading:
        return await reading.send(statements, last=True)


def tenant_statement(user_id: uuid.UUID) -> Statement:
    """Set the transaction's tenant (as the token check does) for a hot statement sent after
    a round trip whose transaction, and tenant, have ended."""
    return Statement(
        "SELECT set_config('diarist.user_id', %(user_id)s, true)", {"user_id": str(user_id)}
    )


async def _restore(session: AsyncSession, conn: AsyncConnection[Any]) -> None:
    """Leave the connection as the pool expects it: idle, out of autocommit. If that fails
    (a broken connection), the pool must discard it: in autocommit, a later unit of work's
    statements would each be a transaction of their own."""
    try:
        if conn.info.transaction_status != TransactionStatus.IDLE:
            await conn.rollback()  # a statement failed: its transaction is aborted
        await conn.set_autocommit(False)
    except BaseException:
        connection = await session.connection()
        await connection.invalidate()
        raise

"""The request's unit of work as a FastAPI dependency."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.db.engine import Database


def get_database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


async def database_dependency(request: Request) -> Database:
    # Dependencies are `async def`: FastAPI runs a plain `def` one in a thread, per request.
    return get_database(request)


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed before the response is sent, rolled back on error."""
    async with get_database(request).unit_of_work() as session:
        yield session


# scope="function": the commit happens before the response leaves, so a failed commit is a 500.
DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(database_dependency)]

"""Enqueue a job in the caller's own transaction: it exists only if that transaction commits."""

from __future__ import annotations

from typing import Any

from procrastinate.tasks import Task
from procrastinate.types import JSONValue
from sqlalchemy.ext.asyncio import AsyncSession


async def defer_in_transaction(
    session: AsyncSession, task: Task[Any, Any, Any], **task_kwargs: JSONValue
) -> int:
    """Defer `task` on the session's psycopg connection, inside its open transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return await task.configure(connection=raw.driver_connection).defer_async(**task_kwargs)

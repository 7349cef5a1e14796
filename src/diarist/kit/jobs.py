"""Enqueue a job in the caller's own transaction: it exists only if that transaction commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from procrastinate.tasks import Task
from procrastinate.types import JSONValue
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.config import Settings
from diarist.db.engine import Database


async def defer_in_transaction(
    session: AsyncSession, task: Task[Any, Any, Any], **task_kwargs: JSONValue
) -> int:
    """Defer `task` on the session's psycopg connection, inside its open transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return await task.configure(connection=raw.driver_connection).defer_async(**task_kwargs)


async def defer_by_name(session: AsyncSession, task_name: str, **task_kwargs: JSONValue) -> int:
    """`defer_in_transaction` for a task named like `"analysis:analyze_entry"` (so services
    need not import the task modules that import them)."""
    from diarist.worker import app  # the registry of every task; imported late, once

    connection = await session.connection()
    raw = await connection.get_raw_connection()
    deferrer = app.configure_task(task_name, connection=raw.driver_connection)
    return await deferrer.defer_async(**task_kwargs)


@dataclass
class WorkerResources:
    """What tasks of a worker process use; set by `diarist.worker.run_worker`."""

    settings: Settings
    # The application role, for work done for one user (tasks set that user's context).
    database: Database
    # The system role (BYPASSRLS), for cross-user maintenance only.
    system_database: Database


_current: list[WorkerResources] = []


def worker_resources() -> WorkerResources:
    if not _current:
        raise RuntimeError("no worker is running in this process")
    return _current[-1]


def install_worker_resources(resources: WorkerResources | None) -> None:
    _current.clear()
    if resources is not None:
        _current.append(resources)

"""Enqueue a job in the caller's own transaction: it exists only if that transaction commits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from procrastinate.tasks import Task
from procrastinate.types import JSONValue
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.config import Settings
from diarist.db.engine import Database


async def defer_in_transaction(
    session: AsyncSession, task: Task[Any, Any, Any], **task_kwargs: JSONValue
) -> int:
    """Defer `task` in the session's open transaction (see `defer_many`)."""
    return (await defer_many(session, task.name, [task_kwargs]))[0]


async def defer_by_name(
    session: AsyncSession, task_name: str, *, lock: str | None = None, **task_kwargs: JSONValue
) -> int:
    """`defer_in_transaction` for a task named like `"analysis:analyze_entry"` (so services
    need not import the task modules that import them). Jobs with the same `lock` run one at
    a time, in order."""
    ids = await defer_many(session, task_name, [task_kwargs], lock=lock)
    return ids[0]


_DEFER_MANY = text(
    """
    SELECT unnest(procrastinate_defer_jobs_v1(ARRAY(
        SELECT ROW(j.queue_name, j.task_name, 0, j.lock, j.queueing_lock, j.args, NULL)
               ::procrastinate_job_to_defer_v1
        FROM jsonb_to_recordset(CAST(:jobs AS jsonb))
             AS j(queue_name text, task_name text, lock text, queueing_lock text, args jsonb)
    )))
    """
)
# procrastinate's unique index: one waiting job per queueing lock.
_QUEUEING_LOCK_INDEX = "procrastinate_jobs_queueing_lock_idx_v1"


async def defer_many(
    session: AsyncSession,
    task_name: str,
    kwargs_list: list[dict[str, JSONValue]],
    *,
    lock: str | None = None,
    lock_key: str | None = None,
    queueing_lock: str | None = None,
) -> list[int]:
    """Defer many jobs of one task in one round trip, inside the session's transaction, with
    procrastinate's own defer function. Each job gets `lock`, or the lock named by its own
    `lock_key` argument (jobs with one lock run one at a time, in order); `queueing_lock`
    refuses a job while another with it waits (IntegrityError; see `defer_once`)."""
    from diarist.worker import app  # the registry of every task; imported late, once

    if not kwargs_list:
        return []
    queue = app.tasks[task_name].queue
    jobs = [
        {
            "queue_name": queue,
            "task_name": task_name,
            "lock": f"{lock_key}:{kwargs[lock_key]}" if lock_key else lock,
            "queueing_lock": queueing_lock,
            "args": kwargs,
        }
        for kwargs in kwargs_list
    ]
    result = await session.execute(_DEFER_MANY, {"jobs": json.dumps(jobs)})
    return [int(job_id) for job_id in result.scalars()]


async def defer_once(
    session: AsyncSession, task_name: str, *, lock: str, **task_kwargs: JSONValue
) -> bool:
    """Defer the task unless one with the same lock waits in the queue already (False then).
    The `lock` is also the queueing lock. In a savepoint, so that the refusal leaves the
    caller's transaction usable."""
    try:
        async with session.begin_nested():
            await defer_many(session, task_name, [task_kwargs], lock=lock, queueing_lock=lock)
    except IntegrityError as exc:
        if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) == (
            _QUEUEING_LOCK_INDEX
        ):
            return False
        raise
    return True


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

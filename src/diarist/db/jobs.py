"""The job queue in our database: procrastinate's tables, reached only from here.

Each domain declares its tasks as `JobSpec`s in its own `jobs.py` (name and queue, importing
nothing of the domain's services), registers them in its `tasks.py` Blueprint, and defers them
here in the caller's own transaction: a job exists only if that transaction commits. SQL code
defers through `diarist_defer_job()` (db/sql/kit/defer_job.sql), the same function used below.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from procrastinate.types import JSONValue
from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.config import Settings
from diarist.db.engine import Database
from diarist.db.pipeline import Statement


@dataclass(frozen=True)
class JobSpec:
    """A task as its callers know it: the worker registers the Blueprint of `namespace` and
    the task `name` with `queue` (a test holds the registry to these specs)."""

    namespace: str
    name: str
    queue: str

    @property
    def task_name(self) -> str:
        return f"{self.namespace}:{self.name}"


_DEFER_MANY = text("SELECT diarist_defer_jobs(CAST(:jobs AS jsonb))")
# procrastinate's unique index: one waiting job per queueing lock.
_QUEUEING_LOCK_INDEX = "procrastinate_jobs_queueing_lock_idx_v1"


@dataclass(frozen=True)
class Deferral:
    """One job to defer: its task, arguments and lock (jobs with one lock run one at a time,
    in order)."""

    spec: JobSpec
    args: dict[str, JSONValue]
    lock: str | None = None
    queueing_lock: str | None = None

    def as_row(self) -> dict[str, JSONValue]:
        return {
            "queue_name": self.spec.queue,
            "task_name": self.spec.task_name,
            "lock": self.lock,
            "queueing_lock": self.queueing_lock,
            "args": self.args,
        }


def defer_statement(deferral: Deferral, *, source: str = "", **params: Any) -> Statement:
    """`deferral` as a statement to send with others (db.pipeline), deferring one job per row
    of `source` (SQL text after SELECT ...: `FROM entries WHERE id = %(entry_id)s`, its
    `params` named), or one job without a source."""
    row: dict[str, Any] = {f"job_{name}": value for name, value in deferral.as_row().items()}
    row["job_args"] = Jsonb(deferral.args)
    sql = (
        "SELECT diarist_defer_job(%(job_task_name)s, %(job_queue_name)s, %(job_args)s,"
        f" %(job_lock)s, %(job_queueing_lock)s) {source}"
    )
    return Statement(sql.rstrip(), {**row, **params})


async def defer(session: AsyncSession, spec: JobSpec, **task_kwargs: JSONValue) -> int:
    """Defer one job in the session's open transaction (see `defer_many`)."""
    return (await defer_many(session, spec, [task_kwargs]))[0]


async def defer_many(
    session: AsyncSession,
    spec: JobSpec,
    kwargs_list: list[dict[str, JSONValue]],
    *,
    lock: str | None = None,
    lock_key: str | None = None,
    queueing_lock: str | None = None,
) -> list[int]:
    """Defer many jobs of one task in one round trip, inside the session's transaction. Each
    job gets `lock`, or the lock named by its own `lock_key` argument (jobs with one lock run
    one at a time, in order); `queueing_lock` refuses a job while another with it waits
    (IntegrityError; see `defer_once`)."""
    return await defer_all(
        session,
        [
            Deferral(
                spec,
                kwargs,
                lock=f"{lock_key}:{kwargs[lock_key]}" if lock_key else lock,
                queueing_lock=queueing_lock,
            )
            for kwargs in kwargs_list
        ],
    )


async def defer_all(session: AsyncSession, deferrals: list[Deferral]) -> list[int]:
    """Defer every job in one round trip, inside the session's transaction; their ids."""
    if not deferrals:
        return []
    jobs = [deferral.as_row() for deferral in deferrals]
    result = await session.execute(_DEFER_MANY, {"jobs": json.dumps(jobs)})
    return [int(job_id) for job_id in result.scalars()]


async def defer_once(
    session: AsyncSession, spec: JobSpec, *, lock: str, **task_kwargs: JSONValue
) -> bool:
    """Defer the task unless one with the same lock waits in the queue already (False then).
    The `lock` is also the queueing lock. In a savepoint, so that the refusal leaves the
    caller's transaction usable."""
    try:
        async with session.begin_nested():
            await defer_many(session, spec, [task_kwargs], lock=lock, queueing_lock=lock)
    except IntegrityError as exc:
        if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) == (
            _QUEUEING_LOCK_INDEX
        ):
            return False
        raise
    return True


async def share_lock_waiting_job(session: AsyncSession, queueing_lock: str) -> bool:
    """Share-lock the job waiting under `queueing_lock` until this transaction ends (a worker
    skips locked jobs, so it cannot start before this transaction's writes are visible to
    it); False when none waits."""
    found = await session.scalar(
        text(
            "SELECT id FROM procrastinate_jobs WHERE queueing_lock = :queueing_lock "
            "AND status = 'todo' FOR SHARE"
        ),
        {"queueing_lock": queueing_lock},
    )
    return found is not None


def no_live_job_sql(spec: JobSpec, argument: str, value_sql: str) -> str:
    """A SQL condition: no job of `spec` waits or runs whose `argument` equals the SQL
    expression `value_sql` (spec and argument are our own constants, never user input)."""
    condition = (
        "NOT EXISTS (SELECT 1 FROM procrastinate_jobs j "  # noqa: S608 - our own constants
        f"WHERE j.task_name = '{spec.task_name}' AND j.status IN ('todo', 'doing') "
        f"AND j.args ->> '{argument}' = {value_sql})"
    )
    return condition


async def count_jobs_by_status(session: AsyncSession, spec: JobSpec) -> dict[str, int]:
    """How many jobs of `spec` are in each status."""
    rows = await session.execute(
        text(
            "SELECT status::text, count(*) FROM procrastinate_jobs "
            "WHERE task_name = :task_name GROUP BY 1"
        ),
        {"task_name": spec.task_name},
    )
    return {row[0]: row[1] for row in rows}


# A job "mentions" a user when their id appears in its arguments or its locks (ids are UUIDs:
# no other value contains one). A running job keeps its row, since its worker finishes it by
# id, but loses what names anyone; every other job goes, whatever its status.
_MENTIONS_USER = (
    "(strpos(args::text, :user_id) > 0 OR strpos(coalesce(lock, ''), :user_id) > 0"
    " OR strpos(coalesce(queueing_lock, ''), :user_id) > 0)"
)
_DELETE_USER_JOBS = text(
    f"DELETE FROM procrastinate_jobs WHERE status <> 'doing' AND {_MENTIONS_USER}"  # noqa: S608
)
_ANONYMISE_USER_JOBS = text(
    "UPDATE procrastinate_jobs SET args = '{}'::jsonb, lock = NULL, queueing_lock = NULL"  # noqa: S608
    f" WHERE status = 'doing' AND {_MENTIONS_USER}"
)


async def forget_user_jobs(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Erase a deleted user from the job queue in the caller's transaction: their jobs of any
    status go (their events with them), and a running one keeps its row without arguments or
    locks. How many jobs were touched. Deletes first, so a job a worker takes meanwhile is
    found running by the update (a waiting job locked here cannot be taken)."""
    params = {"user_id": str(user_id)}
    deleted = await session.execute(_DELETE_USER_JOBS, params)
    anonymised = await session.execute(_ANONYMISE_USER_JOBS, params)
    return int(deleted.rowcount) + int(anonymised.rowcount)  # type: ignore[attr-defined]


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

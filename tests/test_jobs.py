"""Every task is declared once, as a JobSpec in its domain's `jobs` module, and the worker
registers exactly those, each on its declared queue."""

from __future__ import annotations

import uuid

from procrastinate.types import JSONValue
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.analysis import jobs as analysis_jobs
from diarist.attachments import jobs as attachments_jobs
from diarist.audit import jobs as audit_jobs
from diarist.db.jobs import JobSpec, defer_many
from diarist.imports import jobs as imports_jobs
from diarist.insights import jobs as insights_jobs
from diarist.journal import jobs as journal_jobs
from diarist.ops import jobs as ops_jobs
from diarist.reminders import jobs as reminders_jobs
from diarist.worker import app

_JOB_MODULES = (
    ops_jobs, journal_jobs, analysis_jobs, insights_jobs, imports_jobs, attachments_jobs,
    reminders_jobs, audit_jobs,
)  # fmt: skip


def _declared() -> list[JobSpec]:
    return [
        value
        for module in _JOB_MODULES
        for value in vars(module).values()
        if isinstance(value, JobSpec)
    ]


def test_the_worker_registers_exactly_the_declared_tasks_on_their_queues() -> None:
    declared = {spec.task_name: spec.queue for spec in _declared()}
    registered = {name: task.queue for name, task in app.tasks.items() if task.queue != "builtin"}
    assert registered == declared


def test_each_domain_declares_its_own_namespace() -> None:
    for module in _JOB_MODULES:
        specs = [v for v in vars(module).values() if isinstance(v, JobSpec)]
        assert specs
        assert {spec.namespace for spec in specs} == {module.NAMESPACE}


async def test_deferred_jobs_keep_their_order_lock_and_arguments(session: AsyncSession) -> None:
    entry_ids = [str(uuid.uuid4()) for _ in range(3)]
    ids = await defer_many(
        session,
        analysis_jobs.ANALYZE_ENTRY,
        [{"entry_id": e, "user_id": e, "force": False} for e in entry_ids],
        lock_key="entry_id",
    )
    rows = (
        await session.execute(
            text(
                "SELECT id, task_name, queue_name, lock, args ->> 'entry_id' "
                "FROM procrastinate_jobs WHERE id = ANY(:ids) ORDER BY id"
            ),
            {"ids": ids},
        )
    ).all()
    assert [row[0] for row in rows] == ids
    assert [tuple(row[1:]) for row in rows] == [
        ("analysis:analyze_entry", "analysis", f"entry_id:{e}", e) for e in entry_ids
    ]


async def _turns(session: AsyncSession, ids: list[int]) -> list[tuple[str, int]]:
    """The jobs' users and priorities in the order a worker takes them."""
    rows = await session.execute(
        text(
            "SELECT args ->> 'user_id', priority FROM procrastinate_jobs WHERE id = ANY(:ids)"
            " ORDER BY priority DESC, id"
        ),
        {"ids": ids},
    )
    return [(row[0], row[1]) for row in rows]


async def test_one_users_many_jobs_take_turns_with_anothers_one(session: AsyncSession) -> None:
    busy, other = str(uuid.uuid4()), str(uuid.uuid4())

    async def analyse(user: str, entry: str | None = None) -> int:
        args: dict[str, JSONValue] = {
            "entry_id": entry or str(uuid.uuid4()),
            "user_id": user,
            "force": False,
        }
        (job,) = await defer_many(session, analysis_jobs.ANALYZE_ENTRY, [args], lock_key="entry_id")
        return job

    ids = [await analyse(busy) for _ in range(4)]
    ids.append(await analyse(other))
    assert await _turns(session, ids) == [
        (busy, 0), (other, 0), (busy, -1), (busy, -2), (busy, -3)
    ]  # fmt: skip

    # A job never outranks an earlier waiting job with its lock, even when the user's queue
    # has drained since: jobs of one entry keep their order.
    entry = str(uuid.uuid4())
    first = await analyse(busy, entry)  # behind 4 waiting jobs of the user: -4
    await session.execute(
        text("UPDATE procrastinate_jobs SET status = 'succeeded' WHERE id = ANY(:ids)"),
        {"ids": ids},
    )
    second = await analyse(busy, entry)  # 1 waiting, but its lock's first waits at -4
    assert await _turns(session, [first, second]) == [(busy, -4), (busy, -4)]
    assert first < second


async def test_a_batch_of_jobs_is_ranked_as_if_deferred_one_by_one(session: AsyncSession) -> None:
    """An import defers its jobs in batches: the user's waiting jobs are counted once per
    batch, and the batch's priorities continue from that count in order."""
    busy, other = str(uuid.uuid4()), str(uuid.uuid4())

    def args(user: str) -> dict[str, JSONValue]:
        return {"entry_id": str(uuid.uuid4()), "user_id": user, "force": False}

    spec = analysis_jobs.ANALYZE_ENTRY
    first = await defer_many(session, spec, [args(busy) for _ in range(3)], lock_key="entry_id")
    mixed = await defer_many(
        session, spec, [args(busy), args(other), args(busy)], lock_key="entry_id"
    )
    assert await _turns(session, first + mixed) == [
        (busy, 0), (other, 0), (busy, -1), (busy, -2), (busy, -3), (busy, -4)
    ]  # fmt: skip
    assert await defer_many(session, spec, []) == []

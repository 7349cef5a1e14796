"""Every task is declared once, as a JobSpec in its domain's `jobs` module, and the worker
registers exactly those, each on its declared queue."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.analysis import jobs as analysis_jobs
from diarist.db.jobs import JobSpec, defer_many
from diarist.insights import jobs as insights_jobs
from diarist.journal import jobs as journal_jobs
from diarist.ops import jobs as ops_jobs
from diarist.worker import app

_JOB_MODULES = (ops_jobs, journal_jobs, analysis_jobs, insights_jobs)


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

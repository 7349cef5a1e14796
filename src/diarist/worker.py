"""The procrastinate App: every domain registers its Blueprint here; `diarist worker` runs it.

The App's connector has no pool of its own until a worker opens it with ours. API processes never
open it: they defer jobs on their own transaction's connection (`diarist.kit.jobs`).
"""

from __future__ import annotations

import os
import socket

import procrastinate
import structlog
from procrastinate.app import WorkerOptions
from psycopg_pool import AsyncConnectionPool

from diarist.config import Settings
from diarist.db.engine import Database, create_engine, plan_pool, resolve_urls
from diarist.db.provision import libpq_url
from diarist.ops import tasks as ops_tasks

_log = structlog.get_logger("diarist.worker")

app = procrastinate.App(connector=procrastinate.PsycopgConnector())
app.add_tasks_from(ops_tasks.blueprint, namespace="ops")


class _Resources:
    """What tasks of this process use: the application role's database."""

    database: Database | None = None


resources = _Resources()


def task_database() -> Database:
    """The worker process's database, for tasks to open their own unit of work."""
    if resources.database is None:
        raise RuntimeError("the worker is not running")
    return resources.database


async def run_worker(settings: Settings, *, wait: bool = True) -> None:
    """Run the job worker until stopped (or, with `wait=False`, until the queues are empty)."""
    urls = resolve_urls(settings)
    plan = plan_pool(settings.db, settings.workers + 1)
    # Half the share for procrastinate's own queries (fetch, finish, LISTEN), half for tasks.
    queue_size = max(2, (plan.size + plan.overflow) // 2)
    resources.database = Database(
        create_engine(urls.app, settings.db, plan, application_name="diarist-worker")
    )
    pool = AsyncConnectionPool(
        libpq_url(urls.app),
        min_size=1,
        max_size=queue_size,
        kwargs={"application_name": "diarist-queue"},
        open=False,
    )
    options: WorkerOptions = {
        "concurrency": settings.worker.concurrency,
        "name": f"{socket.gethostname()}:{os.getpid()}",
        "wait": wait,
        "install_signal_handlers": wait,
    }
    if settings.worker.queues:  # an empty list would match no queue at all
        options["queues"] = settings.worker.queues
    try:
        async with pool, app.open_async(pool=pool):
            _log.info("worker_started", concurrency=settings.worker.concurrency)
            await app.run_worker_async(**options)
    finally:
        await resources.database.dispose()
        resources.database = None
        _log.info("worker_stopped")

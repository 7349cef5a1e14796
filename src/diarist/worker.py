"""The procrastinate App: every domain registers its Blueprint here; `diarist worker` runs it.

The module's App has a connector without a pool; a running worker swaps in one of its own.
API processes never open it: they defer jobs on their own transaction's connection
(`diarist.db.jobs`).
"""

from __future__ import annotations

import os
import socket

import procrastinate
import structlog
from procrastinate.app import WorkerOptions

from diarist.analysis import jobs as analysis_jobs
from diarist.analysis import tasks as analysis_tasks
from diarist.attachments import jobs as attachments_jobs
from diarist.attachments import tasks as attachments_tasks
from diarist.audit import jobs as audit_jobs
from diarist.audit import tasks as audit_tasks
from diarist.config import Settings
from diarist.db.engine import Database, PoolPlan, create_engine, plan_pool, resolve_urls
from diarist.db.jobs import WorkerResources, install_worker_resources
from diarist.db.provision import libpq_url
from diarist.imports import jobs as imports_jobs
from diarist.imports import tasks as imports_tasks
from diarist.insights import jobs as insights_jobs
from diarist.insights import tasks as insights_tasks
from diarist.journal import jobs as journal_jobs
from diarist.journal import tasks as journal_tasks
from diarist.ops import jobs as ops_jobs
from diarist.ops import tasks as ops_tasks
from diarist.reminders import jobs as reminders_jobs
from diarist.reminders import tasks as reminders_tasks

_log = structlog.get_logger("diarist.worker")

app = procrastinate.App(connector=procrastinate.PsycopgConnector())
app.add_tasks_from(ops_tasks.blueprint, namespace=ops_jobs.NAMESPACE)
app.add_tasks_from(journal_tasks.blueprint, namespace=journal_jobs.NAMESPACE)
app.add_tasks_from(analysis_tasks.blueprint, namespace=analysis_jobs.NAMESPACE)
app.add_tasks_from(insights_tasks.blueprint, namespace=insights_jobs.NAMESPACE)
app.add_tasks_from(imports_tasks.blueprint, namespace=imports_jobs.NAMESPACE)
app.add_tasks_from(attachments_tasks.blueprint, namespace=attachments_jobs.NAMESPACE)
app.add_tasks_from(audit_tasks.blueprint, namespace=audit_jobs.NAMESPACE)
app.add_tasks_from(reminders_tasks.blueprint, namespace=reminders_jobs.NAMESPACE)


async def run_worker(settings: Settings, *, wait: bool = True) -> None:
    """Run the job worker until stopped (or, with `wait=False`, until the queues are empty)."""
    urls = resolve_urls(settings)
    plan = plan_pool(settings.db, settings.workers + 1)
    # Half the share for procrastinate's own queries (fetch, finish, LISTEN), half for tasks.
    queue_size = max(2, (plan.size + plan.overflow) // 2)
    resources = WorkerResources(
        settings=settings,
        database=Database(
            create_engine(urls.app, settings.db, plan, application_name="diarist-worker")
        ),
        system_database=Database(
            create_engine(
                urls.system, settings.db, PoolPlan(1, 1), application_name="diarist-system"
            )
        ),
    )
    install_worker_resources(resources)
    # A connector (and pool) of this run's own: the module's App has none until a worker runs.
    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_url(urls.app),
        min_size=1,
        max_size=queue_size,
        kwargs={"application_name": "diarist-queue"},
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
        with app.replace_connector(connector):
            async with app.open_async():
                _log.info("worker_started", concurrency=settings.worker.concurrency)
                await app.run_worker_async(**options)
    finally:
        install_worker_resources(None)
        await resources.database.dispose()
        await resources.system_database.dispose()
        _log.info("worker_stopped")

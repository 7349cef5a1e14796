"""Background work of insights: drain the dirty-day log, rebuild statistics nightly, store
insights daily. Cross-user listings run as the system role; each user's work runs as the
application role under that user's RLS context."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date

import procrastinate
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.db.engine import Database
from diarist.db.jobs import worker_resources
from diarist.insights import jobs, statistics, stored_insights

blueprint = procrastinate.Blueprint()
_log = structlog.get_logger("diarist.insights.tasks")


async def drain_user(database: Database, user_id: uuid.UUID) -> int:
    """Recompute the user's dirty days in one unit of work; the days recomputed."""
    async with database.unit_of_work(user_id=user_id) as session:
        return await statistics.drain_dirty_days(session, user_id)


async def _for_each_user(
    system_database: Database,
    list_users: Callable[[AsyncSession], Awaitable[list[uuid.UUID]]],
    work: Callable[[uuid.UUID], Awaitable[int]],
    event: str,
) -> int:
    """Run `work` for every user `list_users` names (as the system role), each in its own unit
    of work: one user's failure is logged (their id and the exception's type only: never entry
    text) and the others still run."""
    async with system_database.unit_of_work() as session:
        users = await list_users(session)
    done = 0
    for user_id in users:
        try:
            done += await work(user_id)
        except Exception as exc:
            _log.error(event, user_id=str(user_id), error=type(exc).__name__)
    return done


async def drain_all(database: Database, system_database: Database) -> int:
    """Drain the dirty days of every user who has some; the days recomputed."""
    return await _for_each_user(
        system_database,
        statistics.list_users_with_dirty_days,
        lambda user_id: drain_user(database, user_id),
        "statistics_drain_failed",
    )


async def rebuild_user(database: Database, user_id: uuid.UUID) -> int:
    """Recompute one user's statistics from scratch in one unit of work; 1."""
    async with database.unit_of_work(user_id=user_id) as session:
        await statistics.rebuild_statistics(session, user_id)
    return 1


async def rebuild_all(database: Database, system_database: Database) -> int:
    """Recompute every user's statistics from scratch; the users done."""
    return await _for_each_user(
        system_database,
        statistics.list_active_user_ids,
        lambda user_id: rebuild_user(database, user_id),
        "statistics_rebuild_failed",
    )


async def generate_for_user(
    database: Database, user_id: uuid.UUID, today: date | None = None
) -> int:
    """Bring the user's statistics up to date, then store their insights as of `today`
    (default: today in their time zone); how many hold."""
    await drain_user(database, user_id)
    async with database.unit_of_work(user_id=user_id) as session:
        return len(await stored_insights.generate_insights(session, user_id, today))


async def generate_all(database: Database, system_database: Database) -> int:
    """Store insights for every active user; the findings in all."""
    return await _for_each_user(
        system_database,
        statistics.list_active_user_ids,
        lambda user_id: generate_for_user(database, user_id),
        "insights_generation_failed",
    )


@blueprint.task(name=jobs.REFRESH_STATISTICS.name, queue=jobs.REFRESH_STATISTICS.queue)
async def refresh_statistics(user_id: str) -> int:
    """After an entry's analysis is saved: recompute the user's dirty days."""
    resources = worker_resources()
    days = await drain_user(resources.database, uuid.UUID(user_id))
    _log.info("statistics_refreshed", user_id=user_id, days=days)
    return days


@blueprint.periodic(cron="* * * * *")
@blueprint.task(
    name=jobs.DRAIN_STATISTICS.name,
    queue=jobs.DRAIN_STATISTICS.queue,
    queueing_lock="insights_drain",
)
async def drain_statistics(timestamp: int) -> int:
    """Every minute: the safety net for writes that queue no analysis (mood, tags, trash)."""
    resources = worker_resources()
    days = await drain_all(resources.database, resources.system_database)
    if days:
        _log.info("statistics_drained", days=days)
    return days


@blueprint.periodic(cron="7 3 * * *")
@blueprint.task(
    name=jobs.REBUILD_STATISTICS.name,
    queue=jobs.REBUILD_STATISTICS.queue,
    queueing_lock="insights_rebuild",
)
async def rebuild_statistics(timestamp: int) -> int:
    """Nightly: recompute every user's statistics from the source rows."""
    resources = worker_resources()
    users = await rebuild_all(resources.database, resources.system_database)
    _log.info("statistics_rebuilt", users=users)
    return users


@blueprint.periodic(cron="37 3 * * *")
@blueprint.task(
    name=jobs.GENERATE_INSIGHTS.name,
    queue=jobs.GENERATE_INSIGHTS.queue,
    queueing_lock="insights_generate",
)
async def generate_insights(timestamp: int) -> int:
    """Daily, after the rebuild: store each user's insights."""
    resources = worker_resources()
    found = await generate_all(resources.database, resources.system_database)
    _log.info("insights_generated", findings=found)
    return found

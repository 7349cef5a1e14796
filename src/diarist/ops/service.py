"""Operational checks shared by the API, the CLI and the worker."""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy.exc import SQLAlchemyError

from diarist.config import Settings
from diarist.db import backups, pitr
from diarist.db.engine import Database
from diarist.db.provision import DatabaseUrls
from diarist.ops import repository as repo
from diarist.ops.children import ChildState
from diarist.ops.schemas import BackupState, Readiness

_log = structlog.get_logger("diarist.ops")


async def check_readiness(
    database: Database,
    heads: set[str],
    children: list[ChildState],
    backup: BackupState | None = None,
) -> Readiness:
    """Whether the database answers and holds every packaged migration, and whether every
    supervised process runs (`children`, as `diarist serve` last reported them)."""
    try:
        async with database.engine.connect() as conn:
            current = await repo.applied_revisions(conn)
    except (SQLAlchemyError, OSError) as exc:
        _log.warning("readiness_database_unreachable", error=type(exc).__name__)
        return Readiness(
            status="unavailable",
            database=False,
            migrations="unknown",
            children=children,
            backup=backup,
        )
    if current != heads:
        _log.warning("readiness_migrations_pending", applied=sorted(current), heads=sorted(heads))
        return Readiness(
            status="unavailable",
            database=True,
            migrations="pending",
            children=children,
            backup=backup,
        )
    degraded = any(child.state != "running" for child in children)
    return Readiness(
        status="degraded" if degraded or (backup and backup.overdue) else "ready",
        database=True,
        migrations="current",
        children=children,
        backup=backup,
    )


def backup_state(settings: Settings, now: datetime) -> BackupState | None:
    """The newest backup's age; overdue when scheduled backups are on and it is more than
    twice their interval old (or there is none)."""
    every = settings.backups.every_hours
    newest = backups.newest_backup(settings, now)
    if newest is None:
        if every is None:
            return None
        return BackupState(made_at=now, age_hours=0, verified_at=None, overdue=True)
    overdue = every is not None and newest.hours > 2 * every
    verified = backups.newest_backup(settings, now, verified=True)
    bases = pitr.base_backups(pitr.base_dir(settings))
    base_hours = (now - bases[0].finished_at).total_seconds() / 3600 if bases else None
    return BackupState(
        made_at=newest.made_at, age_hours=round(newest.hours, 2),
        verified_at=newest.verified_at,
        verified_age_hours=round(verified.hours, 2) if verified else None,
        base_age_hours=round(base_hours, 2) if base_hours is not None else None,
        overdue=overdue,
    )  # fmt: skip


def scheduled_backup(settings: Settings, urls: DatabaseUrls, now: datetime) -> str:
    """When scheduled backups are on (DIARIST_BACKUPS__EVERY_HOURS) and the newest is that
    old, make one and prune; what it did (blocking: the worker runs it in a thread)."""
    every = settings.backups.every_hours
    if every is None:
        return "off"
    newest = backups.newest_backup(settings, now)
    if newest is not None and newest.hours < every - 0.05:  # a run minutes early is due
        return "not due"
    dump = backups.create_backup(settings, urls, _step)
    removed = backups.prune_backups(settings, _step)
    _log.info("backup_made", file=dump.name, pruned=len(removed))
    return dump.name


def scheduled_base_backup(settings: Settings, now: datetime) -> str:
    """When scheduled base backups are on (DIARIST_BACKUPS__BASE_EVERY_HOURS, the embedded
    server archiving its WAL) and the newest is that old, take one and prune; what it did."""
    every = settings.backups.base_every_hours
    if every is None or not settings.embedded:
        return "off"
    newest = pitr.base_backups(pitr.base_dir(settings))
    if newest and (now - newest[0].finished_at).total_seconds() / 3600 < every - 0.05:
        return "not due"
    try:
        taken = pitr.base_backup_now(settings, _step)
    except backups.BackupError as exc:
        _log.warning("base_backup_refused", reason=str(exc))
        return "refused"
    _log.info("base_backup_made", folder=taken.path.name)
    return taken.path.name


def _step(message: str) -> None:
    _log.debug("backup_step", step=message)

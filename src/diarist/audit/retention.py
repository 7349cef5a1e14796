"""The daily retention job: the audit trail's partitions made ahead and dropped past their
months, and what grows without bound purged by age — security events, ended sessions and
tokens, used emailed codes, unanswered vault logins and ended vault sessions, entries'
idempotency keys, finished jobs. Each step has its
setting (`DIARIST_RETENTION__*`, docs/audit.md) and its own transaction. (Entries in the trash
and expired analysis results have their own hourly jobs.)"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.audit import service as audit_service
from diarist.config import RetentionSettings
from diarist.db.engine import Database

_SECURITY_EVENTS = text("DELETE FROM security_events WHERE id < :bound")
_ENDED_TOKENS = text(
    "DELETE FROM auth_tokens WHERE revoked_at < :cutoff OR expires_at < :cutoff"
    " OR absolute_expires_at < :cutoff"
)
_OLD_CODES = text("DELETE FROM auth_codes WHERE expires_at < :cutoff")
# Vault logins never answered and vault sessions past their time (refused already).
_VAULT_LOGINS = text("DELETE FROM opaque_sessions WHERE expires_at < :cutoff")
_VAULT_SESSIONS = text("DELETE FROM vault_sessions WHERE expires_at < :cutoff")
_IDEMPOTENCY_KEYS = text(
    "UPDATE entries SET idempotency_key = NULL, idempotency_hash = NULL"
    " WHERE idempotency_key IS NOT NULL AND id < :bound"
)
_FINISHED_JOBS = text(
    """
    DELETE FROM procrastinate_jobs j
    WHERE j.status IN ('succeeded', 'failed', 'cancelled', 'aborted')
      AND NOT EXISTS (SELECT 1 FROM procrastinate_events e
                      WHERE e.job_id = j.id AND e.at >= :cutoff)
    """
)


def uuid7_bound(instant: datetime) -> uuid.UUID:
    """The smallest uuidv7 of `instant`'s millisecond: ids below it were made before it."""
    return uuid.UUID(int=int(instant.timestamp() * 1000) << 80)


async def _count(session: AsyncSession, statement: Any, **params: Any) -> int:
    result = await session.execute(statement, params)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def run_retention(
    system: Database, settings: RetentionSettings, now: datetime
) -> dict[str, int]:
    """Every step once (the system role); what each removed or made."""
    done: dict[str, int] = {}
    async with system.unit_of_work() as session:
        kept = await audit_service.keep_partitions(session, settings, now.date())
    done |= {"audit_partitions_made": kept.made, "audit_partitions_dropped": kept.dropped}

    def ago(days: int) -> datetime:
        return now - timedelta(days=days)

    steps: list[tuple[str, Any, dict[str, Any]]] = [
        ("ended_sessions", _ENDED_TOKENS, {"cutoff": ago(settings.ended_sessions_days)}),
        ("used_codes", _OLD_CODES, {"cutoff": ago(1)}),
        ("vault_logins", _VAULT_LOGINS, {"cutoff": now}),
        ("vault_sessions", _VAULT_SESSIONS, {"cutoff": now}),
        ("idempotency_keys", _IDEMPOTENCY_KEYS,
         {"bound": uuid7_bound(ago(settings.idempotency_days))}),
        ("finished_jobs", _FINISHED_JOBS, {"cutoff": ago(settings.finished_jobs_days)}),
    ]  # fmt: skip
    if settings.security_events_days:
        bound = uuid7_bound(now - timedelta(settings.security_events_days))
        steps.append(("security_events", _SECURITY_EVENTS, {"bound": bound}))
    for name, statement, params in steps:
        async with system.unit_of_work() as session:
            done[name] = await _count(session, statement, **params)
    return done

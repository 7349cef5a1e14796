"""The tasks of ops, as callers defer them (registered in `ops.tasks`)."""

from __future__ import annotations

from diarist.db.jobs import JobSpec

NAMESPACE = "ops"
PING = JobSpec(NAMESPACE, "ping", queue="ops")
BACKUP = JobSpec(NAMESPACE, "backup", queue="maintenance")

"""The tasks of the audit domain, as callers defer them (registered in `audit.tasks`)."""

from __future__ import annotations

from diarist.db.jobs import JobSpec

NAMESPACE = "audit"
RETENTION = JobSpec(NAMESPACE, "retention", queue="maintenance")

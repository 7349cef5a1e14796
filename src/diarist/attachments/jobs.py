"""The tasks of attachments, as callers defer them (registered in `attachments.tasks`)."""

from __future__ import annotations

from diarist.db.jobs import JobSpec

NAMESPACE = "attachments"
COLLECT = JobSpec(NAMESPACE, "collect", queue="maintenance")

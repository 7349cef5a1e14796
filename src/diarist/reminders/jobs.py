"""The tasks of reminders, as callers defer them (registered in `reminders.tasks`)."""

from __future__ import annotations

from diarist.db.jobs import JobSpec

NAMESPACE = "reminders"
DELIVER = JobSpec(NAMESPACE, "deliver", queue="reminders")

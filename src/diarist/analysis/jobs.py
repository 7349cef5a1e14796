"""The tasks of analysis, as callers defer them (registered in `analysis.tasks`)."""

from __future__ import annotations

from diarist.db.jobs import JobSpec

NAMESPACE = "analysis"
ANALYZE_ENTRY = JobSpec(NAMESPACE, "analyze_entry", queue="analysis")
SWEEP = JobSpec(NAMESPACE, "sweep", queue="maintenance")

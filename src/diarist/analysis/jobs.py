"""The tasks of analysis, as callers defer them (registered in `analysis.tasks`)."""

from __future__ import annotations

from diarist.db.jobs import JobSpec

NAMESPACE = "analysis"
ANALYZE_ENTRY = JobSpec(NAMESPACE, "analyze_entry", queue="analysis")
# Many new entries of one user (an import's batch): one job that, when it runs, defers each
# entry's ANALYZE_ENTRY.
ANALYZE_BATCH = JobSpec(NAMESPACE, "analyze_batch", queue="analysis")
SWEEP = JobSpec(NAMESPACE, "sweep", queue="maintenance")

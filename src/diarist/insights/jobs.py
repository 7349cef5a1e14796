"""The tasks of insights, as callers defer them (registered in `insights.tasks`)."""

from __future__ import annotations

from diarist.db.jobs import JobSpec

NAMESPACE = "insights"
REFRESH_STATISTICS = JobSpec(NAMESPACE, "refresh_statistics", queue="insights")
DRAIN_STATISTICS = JobSpec(NAMESPACE, "drain_statistics", queue="maintenance")
REBUILD_STATISTICS = JobSpec(NAMESPACE, "rebuild_statistics", queue="maintenance")
GENERATE_INSIGHTS = JobSpec(NAMESPACE, "generate_insights", queue="maintenance")

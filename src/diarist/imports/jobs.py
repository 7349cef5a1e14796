"""The tasks of imports, as callers defer them (registered in `imports.tasks`)."""

from __future__ import annotations

from diarist.db.jobs import JobSpec

NAMESPACE = "imports"
RUN_IMPORT = JobSpec(NAMESPACE, "run_import", queue="imports")
SWEEP_UPLOADS = JobSpec(NAMESPACE, "sweep_uploads", queue="maintenance")

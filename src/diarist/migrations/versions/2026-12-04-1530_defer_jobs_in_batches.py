"""defer jobs in batches: diarist_defer_jobs(jobs) defers many jobs at once and counts a user's
waiting jobs once per call, not once per job (an import's batch of a thousand jobs counted the
user's waiting jobs a thousand times); diarist_defer_job defers through it

Revision ID: 0016_defer_jobs_in_batches
Revises: 0015_entry_import_origin
Create Date: 2026-12-04 15:30:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from diarist.db.sql import read_sql

revision: str = "0016_defer_jobs_in_batches"
down_revision: str | None = "0015_entry_import_origin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What revision 0014 made: the waiting jobs of the user and task counted for each job.
_ONE_BY_ONE = """
CREATE OR REPLACE FUNCTION diarist_defer_job(
    p_task_name text, p_queue_name text, p_args jsonb,
    p_lock text DEFAULT NULL, p_queueing_lock text DEFAULT NULL
) RETURNS bigint
LANGUAGE sql VOLATILE SET search_path = public, pg_temp
AS $$
    WITH waiting AS (
        SELECT count(*)::integer AS jobs,
               min(j.priority) FILTER (WHERE j.lock = p_lock) AS same_lock
        FROM procrastinate_jobs j
        WHERE p_args ? 'user_id'
          AND j.status = 'todo'
          AND j.task_name = p_task_name
          AND j.args ->> 'user_id' = p_args ->> 'user_id'
    )
    SELECT (procrastinate_defer_jobs_v1(ARRAY[
        ROW(p_queue_name, p_task_name, least(-w.jobs, coalesce(w.same_lock, 0)), p_lock,
            p_queueing_lock, p_args, NULL)::procrastinate_job_to_defer_v1
    ]))[1]
    FROM waiting w
$$
"""


def upgrade() -> None:
    op.execute(read_sql("kit/defer_job.sql"))


def downgrade() -> None:
    op.execute(_ONE_BY_ONE)
    op.execute("DROP FUNCTION diarist_defer_jobs(jsonb)")

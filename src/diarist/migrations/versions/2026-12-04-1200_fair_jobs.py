"""fair jobs: a job whose arguments name a user waits behind that user's other waiting jobs of
its task, not behind everyone's (diarist_defer_job sets its priority); an index on
procrastinate_jobs counts them

Revision ID: 0014_fair_jobs
Revises: 0013_keyword_candidates
Create Date: 2026-12-04 12:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_fair_jobs"
down_revision: str | None = "0013_keyword_candidates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What revision 0010 made: every job at priority 0, first come first served.
_FIRST_COME = """
CREATE OR REPLACE FUNCTION diarist_defer_job(
    p_task_name text, p_queue_name text, p_args jsonb,
    p_lock text DEFAULT NULL, p_queueing_lock text DEFAULT NULL
) RETURNS bigint
LANGUAGE sql VOLATILE SET search_path = public, pg_temp
AS $$
    SELECT (procrastinate_defer_jobs_v1(ARRAY[
        ROW(p_queue_name, p_task_name, 0, p_lock, p_queueing_lock, p_args, NULL)
            ::procrastinate_job_to_defer_v1
    ]))[1]
$$
"""

# What this revision made (db/sql/kit/defer_job.sql has the current definition): the waiting
# jobs of the user and task counted for each job.
_FAIR_ONE_BY_ONE = """
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

# Our index on procrastinate's table (named as ours): the waiting jobs of a user and task.
_WAITING_INDEX = (
    "CREATE INDEX diarist_jobs_waiting_by_user ON procrastinate_jobs"
    " (task_name, (args ->> 'user_id'), priority) WHERE status = 'todo'"
)


def upgrade() -> None:
    op.execute(_WAITING_INDEX)
    op.execute(_FAIR_ONE_BY_ONE)


def downgrade() -> None:
    op.execute(_FIRST_COME)
    op.execute("DROP INDEX diarist_jobs_waiting_by_user")

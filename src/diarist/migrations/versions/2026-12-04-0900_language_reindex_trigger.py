"""one-way jobs: a language change defers the journal's re-index from a trigger of the
journal's own on users (accounts no longer names a journal task), through diarist_defer_job,
the one SQL entry into procrastinate's defer function

Revision ID: 0010_language_reindex_trigger
Revises: 0009_search_per_user
Create Date: 2026-12-04 09:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_language_reindex_trigger"
down_revision: str | None = "0009_search_per_user"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The current text of both lives in diarist/db/sql (kit/defer_job.sql,
# journal/reindex_on_language_change.sql); this revision keeps its own copy, as history.
_DEFER_JOB = """
CREATE FUNCTION diarist_defer_job(
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

_REINDEX_FUNCTION = """
CREATE FUNCTION journal_reindex_on_language_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
BEGIN
    PERFORM diarist_defer_job(
        'journal:reindex_language', 'maintenance', jsonb_build_object('user_id', NEW.id::text)
    );
    RETURN NULL;
END
$$
"""

_REINDEX_TRIGGER = """
CREATE TRIGGER users_language_changed
AFTER UPDATE OF preferences ON users
FOR EACH ROW
WHEN (OLD.preferences ->> 'language' IS DISTINCT FROM NEW.preferences ->> 'language')
EXECUTE FUNCTION journal_reindex_on_language_change()
"""


def upgrade() -> None:
    op.execute(_DEFER_JOB)
    op.execute(_REINDEX_FUNCTION)
    op.execute(_REINDEX_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER users_language_changed ON users")
    op.execute("DROP FUNCTION journal_reindex_on_language_change()")
    op.execute("DROP FUNCTION diarist_defer_job(text, text, jsonb, text, text)")

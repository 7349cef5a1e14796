-- diarist_defer_job(task, queue, args, lock, queueing lock): defers one procrastinate job in
-- the caller's transaction and returns its id. The one SQL entry into procrastinate's defer
-- function (diarist.db.jobs defers through it too), so that only this file knows its shape.
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
$$;

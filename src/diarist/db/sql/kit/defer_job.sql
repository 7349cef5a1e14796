-- diarist_defer_job(task, queue, args, lock, queueing lock): defers one procrastinate job in
-- the caller's transaction and returns its id. The one SQL entry into procrastinate's defer
-- function (diarist.db.jobs defers through it too), so that only this file knows its shape.
--
-- Fair between users: a job whose arguments name a `user_id` waits behind that user's other
-- waiting jobs of the task, not behind everyone's. Its priority is minus the number of them
-- (procrastinate runs higher priorities first, then older jobs), so one user's thousand jobs
-- take turns with another user's one instead of going first. A job never outranks an earlier
-- waiting job with its lock (jobs with one lock keep their order).
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
$$;

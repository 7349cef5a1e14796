-- diarist_defer_jobs(jobs): defers procrastinate jobs in the caller's transaction and returns
-- their ids in the order given. `jobs` is a JSON array of {queue_name, task_name, args, lock,
-- queueing_lock}. The one SQL entry into procrastinate's defer function (diarist.db.jobs and
-- diarist_defer_job below defer through it), so that only this file knows its shape.
--
-- Fair between users: a job whose arguments name a `user_id` waits behind that user's other
-- waiting jobs of the task, not behind everyone's. Its priority is minus the number of them
-- (procrastinate runs higher priorities first, then older jobs), so one user's thousand jobs
-- take turns with another user's one instead of going first. A job never outranks an earlier
-- waiting job with its lock (jobs with one lock keep their order).
--
-- The waiting jobs are counted once per (task, user) of the call, not once per job: a batch of
-- an import's thousand jobs costs one count, and their priorities continue from it in order.
CREATE OR REPLACE FUNCTION diarist_defer_jobs(p_jobs jsonb) RETURNS SETOF bigint
LANGUAGE sql VOLATILE SET search_path = public, pg_temp
AS $$
    WITH incoming AS (
        SELECT e.n, e.job ->> 'queue_name' AS queue_name, e.job ->> 'task_name' AS task_name,
               e.job ->> 'lock' AS lock, e.job ->> 'queueing_lock' AS queueing_lock,
               e.job -> 'args' AS args, e.job -> 'args' ->> 'user_id' AS user_id
        FROM jsonb_array_elements(p_jobs) WITH ORDINALITY AS e(job, n)
    ), waiting AS (
        SELECT pair.task_name, pair.user_id,
               (SELECT count(*)::integer FROM procrastinate_jobs j
                WHERE j.status = 'todo' AND j.task_name = pair.task_name
                  AND j.args ->> 'user_id' = pair.user_id) AS jobs
        FROM (SELECT DISTINCT task_name, user_id FROM incoming WHERE user_id IS NOT NULL) pair
    ), same_lock AS (
        SELECT j.lock, min(j.priority) AS priority
        FROM procrastinate_jobs j
        WHERE j.status = 'todo' AND j.lock IN (SELECT lock FROM incoming)
        GROUP BY j.lock
    ), ranked AS (
        SELECT i.n, i.queue_name, i.task_name, i.lock, i.queueing_lock, i.args,
               least(
                   CASE WHEN i.user_id IS NULL THEN 0
                        ELSE -(w.jobs + row_number() OVER (PARTITION BY i.task_name, i.user_id
                                                           ORDER BY i.n) - 1)::integer
                   END,
                   coalesce(s.priority, 0)
               ) AS priority
        FROM incoming i
        LEFT JOIN waiting w ON w.task_name = i.task_name AND w.user_id = i.user_id
        LEFT JOIN same_lock s ON s.lock = i.lock
    )
    SELECT unnest(procrastinate_defer_jobs_v1(
        array_agg(ROW(r.queue_name, r.task_name, r.priority, r.lock, r.queueing_lock, r.args,
                      NULL)::procrastinate_job_to_defer_v1 ORDER BY r.n)))
    FROM ranked r
    HAVING count(*) > 0
$$;

-- diarist_defer_job(task, queue, args, lock, queueing lock): one job (see above); its id.
CREATE OR REPLACE FUNCTION diarist_defer_job(
    p_task_name text, p_queue_name text, p_args jsonb,
    p_lock text DEFAULT NULL, p_queueing_lock text DEFAULT NULL
) RETURNS bigint
LANGUAGE sql VOLATILE SET search_path = public, pg_temp
AS $$
    SELECT diarist_defer_jobs(jsonb_build_array(jsonb_build_object(
        'queue_name', p_queue_name, 'task_name', p_task_name, 'args', p_args,
        'lock', p_lock, 'queueing_lock', p_queueing_lock)))
$$;

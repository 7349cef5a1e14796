-- stats_mark_entries: logs in stats_dirty_days every (user, local day) an entry write touches,
-- for the worker to recompute stats_days. Statement-level, plain inserts into an append-only
-- log: writers never conflict or wait. An update marks the old and the new day, and only when
-- something statistics read changed (not analysis bookkeeping, not the text itself). Rows of a
-- user being deleted are skipped (the cascade would otherwise log days of a user that is gone).
CREATE OR REPLACE FUNCTION stats_mark_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO stats_dirty_days (user_id, day)
        SELECT DISTINCT n.user_id, ((n.entry_date AT TIME ZONE n.timezone)::date) FROM new_rows n
        WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = n.user_id);
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO stats_dirty_days (user_id, day)
        SELECT DISTINCT o.user_id, ((o.entry_date AT TIME ZONE o.timezone)::date) FROM old_rows o
        WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id);
    ELSE
        -- Only changes that statistics read (not analysis bookkeeping, not the text itself).
        INSERT INTO stats_dirty_days (user_id, day)
        SELECT DISTINCT c.user_id, c.day FROM (
            SELECT o.user_id, ((o.entry_date AT TIME ZONE o.timezone)::date) AS day,
                   n.user_id AS new_user,
                   ((n.entry_date AT TIME ZONE n.timezone)::date) AS new_day
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.entry_date, o.timezone, o.mood_rating, o.word_count, o.deleted_at IS NULL)
                  IS DISTINCT FROM
                  (n.entry_date, n.timezone, n.mood_rating, n.word_count, n.deleted_at IS NULL)
        ) AS changed, LATERAL (VALUES (changed.user_id, changed.day),
                                      (changed.new_user, changed.new_day)) AS c(user_id, day)
        WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER stats_mark_entries_insert
    AFTER INSERT ON entries
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_entries();

CREATE OR REPLACE TRIGGER stats_mark_entries_update
    AFTER UPDATE ON entries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_entries();

CREATE OR REPLACE TRIGGER stats_mark_entries_delete
    AFTER DELETE ON entries
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_entries();

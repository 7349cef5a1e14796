-- stats_mark_linked: logs in stats_dirty_days the days of the entries that written entry_tags,
-- entry_topics and processed_content rows belong to (statement-level, like stats_mark_entries).
-- FOR KEY SHARE OF e: a transaction that moves an entry (entry_date, timezone, deleted_at)
-- holds FOR UPDATE on it (the journal service locks before it writes; DELETE does too), so
-- this waits for it and reads the committed day, or it waits for this transaction and then
-- marks both the old and the new day. Without the lock a link written beside a move could be
-- recorded on the day the entry left only.
-- Each row's entry is looked up by its key (LATERAL): the planner knows nothing of a transition
-- table, and a join read every entry of the user for each statement (an import's batch of
-- links took 160 ms at 5,000 entries, growing with the journal; a create's link did too).
CREATE OR REPLACE FUNCTION stats_mark_linked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO stats_dirty_days (user_id, day)
        SELECT DISTINCT l.user_id, l.day FROM old_rows r CROSS JOIN LATERAL (
            SELECT e.user_id, ((e.entry_date AT TIME ZONE e.timezone)::date) AS day
            FROM entries e WHERE e.id = r.entry_id AND e.user_id = r.user_id
            FOR KEY SHARE OF e
        ) l;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO stats_dirty_days (user_id, day)
        SELECT DISTINCT l.user_id, l.day FROM new_rows r CROSS JOIN LATERAL (
            SELECT e.user_id, ((e.entry_date AT TIME ZONE e.timezone)::date) AS day
            FROM entries e WHERE e.id = r.entry_id AND e.user_id = r.user_id
            FOR KEY SHARE OF e
        ) l;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER stats_mark_entry_tags_insert
    AFTER INSERT ON entry_tags
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_linked();

CREATE OR REPLACE TRIGGER stats_mark_entry_tags_update
    AFTER UPDATE ON entry_tags
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_linked();

CREATE OR REPLACE TRIGGER stats_mark_entry_tags_delete
    AFTER DELETE ON entry_tags
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_linked();

CREATE OR REPLACE TRIGGER stats_mark_entry_topics_insert
    AFTER INSERT ON entry_topics
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_linked();

CREATE OR REPLACE TRIGGER stats_mark_entry_topics_update
    AFTER UPDATE ON entry_topics
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_linked();

CREATE OR REPLACE TRIGGER stats_mark_entry_topics_delete
    AFTER DELETE ON entry_topics
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_linked();

CREATE OR REPLACE TRIGGER stats_mark_processed_content_insert
    AFTER INSERT ON processed_content
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_linked();

CREATE OR REPLACE TRIGGER stats_mark_processed_content_update
    AFTER UPDATE ON processed_content
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_linked();

CREATE OR REPLACE TRIGGER stats_mark_processed_content_delete
    AFTER DELETE ON processed_content
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_linked();

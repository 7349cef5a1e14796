-- users_language_changed: when a user's language preference changes, defers the journal's
-- re-index of their entries (task journal:reindex_language, queue maintenance) in the same
-- transaction. A trigger of the journal's own on users, so accounts names no journal task.
CREATE OR REPLACE FUNCTION journal_reindex_on_language_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
BEGIN
    PERFORM diarist_defer_job(
        'journal:reindex_language', 'maintenance', jsonb_build_object('user_id', NEW.id::text)
    );
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER users_language_changed
    AFTER UPDATE OF preferences ON users
    FOR EACH ROW
    WHEN (OLD.preferences ->> 'language' IS DISTINCT FROM NEW.preferences ->> 'language')
    EXECUTE FUNCTION journal_reindex_on_language_change();

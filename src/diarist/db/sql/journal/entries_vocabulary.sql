-- entries_vocabulary: keeps user_words current as entries are written. +1 per entry for each
-- word it gains, -1 for each it loses (a row that reaches zero goes). Words are handled in
-- sorted order so that concurrent writers lock rows in the same order (no deadlocks). Nothing
-- is counted for a user being deleted: their words go by cascade.
CREATE OR REPLACE FUNCTION entries_vocabulary() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    old_words text[] := '{}';
    new_words text[] := '{}';
    removed text[];
    added text[];
    owner uuid;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.content IS NOT DISTINCT FROM NEW.content THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_words := journal_words(OLD.content);
        owner := OLD.user_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        new_words := journal_words(NEW.content);
        owner := NEW.user_id;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = owner) THEN
        RETURN NULL;  -- the user is being deleted; their words go by cascade
    END IF;
    removed := ARRAY(SELECT unnest(old_words) EXCEPT SELECT unnest(new_words));
    added := ARRAY(SELECT unnest(new_words) EXCEPT SELECT unnest(old_words));
    -- Lock every existing row this change touches, in one sorted order (no deadlocks), then
    -- count down, drop what reached zero, and count up.
    PERFORM 1 FROM user_words
    WHERE user_id = owner AND word = ANY (removed || added)
    ORDER BY word FOR UPDATE;
    UPDATE user_words SET entry_count = entry_count - 1
    WHERE user_id = owner AND word = ANY (removed);
    DELETE FROM user_words WHERE user_id = owner AND word = ANY (removed) AND entry_count = 0;
    INSERT INTO user_words (user_id, word, entry_count)
    SELECT owner, w, 1
    FROM unnest(added) AS w
    ORDER BY w
    ON CONFLICT (user_id, word) DO UPDATE SET entry_count = user_words.entry_count + 1;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER entries_vocabulary
    AFTER INSERT OR DELETE OR UPDATE OF content ON entries
    FOR EACH ROW EXECUTE FUNCTION entries_vocabulary();

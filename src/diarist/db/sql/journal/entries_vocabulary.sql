-- entries_vocabulary: records what each write of an entry changes in its author's vocabulary
-- (user_words, for typo tolerance): the words it gains and the words it loses, as one row of
-- the append-only log vocabulary_changes. Writers never wait on each other's words;
-- vocabulary_fold() counts them into user_words later. Nothing is recorded for a user being
-- deleted: their words go by cascade.
CREATE OR REPLACE FUNCTION entries_vocabulary() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    old_words text[] := '{}';
    new_words text[] := '{}';
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
    IF old_words = new_words OR NOT EXISTS (SELECT 1 FROM users WHERE id = owner) THEN
        RETURN NULL;
    END IF;
    INSERT INTO vocabulary_changes (user_id, added, removed)
    VALUES (
        owner,
        ARRAY(SELECT unnest(new_words) EXCEPT SELECT unnest(old_words)),
        ARRAY(SELECT unnest(old_words) EXCEPT SELECT unnest(new_words))
    );
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER entries_vocabulary
    AFTER INSERT OR DELETE OR UPDATE OF content ON entries
    FOR EACH ROW EXECUTE FUNCTION entries_vocabulary();

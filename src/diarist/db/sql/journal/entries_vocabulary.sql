-- entries_vocabulary: records what each write of an entry changes in its author's vocabulary
-- (user_words, for typo tolerance): the words it gains and the words it loses, in the
-- append-only log vocabulary_changes. Writers never wait on each other's words;
-- vocabulary_fold() counts them into user_words later.
--
-- New entries are logged once a statement (entries_vocabulary_inserted): one row for their
-- author with every new entry's words one after another (a word of three new entries is in
-- it three times: the fold counts each), so that a batch of 500 imported entries is one row,
-- not 500 rows and 500 calls of a row trigger. Changes and deletions are logged a row each
-- (they need the words the entry had). Nothing is recorded for a user being deleted: their
-- words go by cascade.
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
    AFTER DELETE OR UPDATE OF content ON entries
    FOR EACH ROW EXECUTE FUNCTION entries_vocabulary();

CREATE OR REPLACE FUNCTION entries_vocabulary_inserted() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO vocabulary_changes (user_id, added, removed)
    SELECT n.user_id, array_agg(w.word), '{}'
    FROM new_rows n CROSS JOIN LATERAL unnest(journal_words(n.content)) AS w(word)
    GROUP BY n.user_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER entries_vocabulary_insert
    AFTER INSERT ON entries REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entries_vocabulary_inserted();

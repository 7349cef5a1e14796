-- vocabulary_fold(user): counts a user's recorded vocabulary changes into user_words (+1 per
-- entry for each word gained, -1 for each lost; a word that reaches zero goes) and removes
-- them from the log; returns how many changes it folded. Folds of one user run one at a time
-- (a transaction-level advisory lock) and each takes every change committed so far, so a
-- word's loss is never counted before its gain (an entry's old words were committed before
-- the write that removes them): no count goes below zero. Only folds write user_words. Runs
-- with the caller's rights: the worker (system role) folds anyone's words, a request only its
-- tenant's (RLS).
CREATE OR REPLACE FUNCTION vocabulary_fold(p_user_id uuid) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    folded integer;
    words text[];
    deltas integer[];
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('vocabulary_fold:' || p_user_id::text, 0));
    WITH taken AS (
        DELETE FROM vocabulary_changes WHERE user_id = p_user_id
        RETURNING added, removed
    ),
    changes AS (
        SELECT unnest(added) AS word, 1 AS delta FROM taken
        UNION ALL
        SELECT unnest(removed), -1 FROM taken
    ),
    summed AS (
        SELECT word, sum(delta)::integer AS delta FROM changes
        GROUP BY word HAVING sum(delta) <> 0
    )
    SELECT (SELECT count(*) FROM taken),
           coalesce(array_agg(word ORDER BY word), '{}'),
           coalesce(array_agg(delta ORDER BY word), '{}')
    INTO folded, words, deltas
    FROM summed;
    UPDATE user_words AS u SET entry_count = u.entry_count + c.delta
    FROM unnest(words, deltas) AS c(word, delta)
    WHERE u.user_id = p_user_id AND u.word = c.word;
    INSERT INTO user_words (user_id, word, entry_count)
    SELECT p_user_id, c.word, c.delta FROM unnest(words, deltas) AS c(word, delta)
    WHERE c.delta > 0
    ON CONFLICT (user_id, word) DO NOTHING;  -- counted by the update above
    DELETE FROM user_words
    WHERE user_id = p_user_id AND word = ANY (words) AND entry_count = 0;
    RETURN folded;
END
$$;

-- journal_words(text): the distinct plain words of a text (3-40 characters, not starting with
-- a digit), sorted; what the vocabulary (user_words, for typo tolerance) counts.
CREATE OR REPLACE FUNCTION journal_words(p_content text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(array_agg(w ORDER BY w), '{}')
    FROM unnest(tsvector_to_array(to_tsvector('simple', p_content))) AS w
    WHERE length(w) BETWEEN 3 AND 40 AND w !~ '^[0-9]'
$$;

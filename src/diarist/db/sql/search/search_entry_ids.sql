-- search_entry_ids(query, trashed, candidates): the keyword match, ids and scores only. Under
-- forced RLS `@@` cannot be an index condition ahead of the policy, so a user with many entries
-- would have every row matched one by one. This narrow function runs as the owner, applies the
-- caller's user filter itself (so the GIN index over (user_id, search_vector) reads only that
-- user's postings) and returns only ids and scores; the caller joins back to `entries` under
-- RLS for everything else. Ranking reads each match's whole tsvector, so with `candidates`
-- only that many of the newest matches are ranked (a word in most of 20,000 entries ranks
-- 1,000 of them, not 20,000); NULL ranks every match (a caller with filters of its own passes
-- NULL, so that the filters see every match).
CREATE OR REPLACE FUNCTION search_entry_ids(p_query tsquery, p_deleted boolean, p_candidates integer)
RETURNS TABLE (entry_id uuid, score real)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
ROWS 200
AS $$
    SELECT m.id, ts_rank_cd(m.search_vector, p_query, 32)
    FROM (
        SELECT e.id, e.search_vector
        FROM entries e
        WHERE e.user_id = diarist_current_user_id()
          AND e.search_vector @@ p_query
          AND (e.deleted_at IS NOT NULL) = p_deleted
        ORDER BY e.entry_date DESC
        LIMIT p_candidates
    ) AS m
$$;

REVOKE ALL ON FUNCTION search_entry_ids(tsquery, boolean, integer) FROM PUBLIC;

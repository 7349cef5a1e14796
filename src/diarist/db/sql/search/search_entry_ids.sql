-- search_entry_ids(query, trashed): the keyword match, ids and scores only. Under forced RLS
-- `@@` cannot be an index condition ahead of the policy, so a user with many entries would
-- have every row matched one by one. This narrow function runs as the owner, applies the
-- caller's user filter itself (so the GIN index over (user_id, search_vector) reads only that
-- user's postings) and returns only ids and scores; the caller joins back to `entries` under
-- RLS for everything else.
CREATE OR REPLACE FUNCTION search_entry_ids(p_query tsquery, p_deleted boolean)
RETURNS TABLE (entry_id uuid, score real)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
ROWS 200
AS $$
    SELECT e.id, ts_rank_cd(e.search_vector, p_query, 32)
    FROM entries e
    WHERE e.user_id = diarist_current_user_id()
      AND e.search_vector @@ p_query
      AND (e.deleted_at IS NOT NULL) = p_deleted
$$;

REVOKE ALL ON FUNCTION search_entry_ids(tsquery, boolean) FROM PUBLIC;

-- calendar_feed_owner(token_hash): whose reminders a calendar feed URL shows, before any user
-- is known (a calendar app sends no credentials but the URL). Like auth_find_account: SECURITY
-- DEFINER, owned by the owner role (which bypasses RLS), returning only the owner's id.
CREATE OR REPLACE FUNCTION calendar_feed_owner(p_token_hash bytea)
RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT user_id FROM calendar_feeds WHERE token_hash = p_token_hash
$$;

REVOKE ALL ON FUNCTION calendar_feed_owner(bytea) FROM PUBLIC;

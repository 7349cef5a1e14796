-- auth_resolve_token(token hash): an authenticated request's first statement. A read: checks
-- the bearer token (not revoked, not expired, active user), sets the tenant for the rest of
-- the transaction, and returns the user's preferences and whether the token's activity is a
-- minute old (then the caller records it with auth_touch_token() after the response).
CREATE OR REPLACE FUNCTION auth_resolve_token(p_token_hash bytea)
RETURNS TABLE (token_id uuid, user_id uuid, kind text, scope text, preferences jsonb,
               needs_touch boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    hit record;
BEGIN
    SELECT t.id, t.user_id, t.kind, t.scope, t.last_used_at, u.preferences INTO hit
    FROM auth_tokens t JOIN users u ON u.id = t.user_id
    WHERE t.token_hash = p_token_hash
      AND t.revoked_at IS NULL
      AND (t.expires_at IS NULL OR t.expires_at > now())
      AND (t.absolute_expires_at IS NULL OR t.absolute_expires_at > now())
      AND u.is_active;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM set_config('diarist.user_id', hit.user_id::text, true);
    token_id := hit.id;
    user_id := hit.user_id;
    kind := hit.kind;
    scope := hit.scope;
    preferences := hit.preferences;
    needs_touch := hit.last_used_at < now() - interval '1 minute';
    RETURN NEXT;
END
$$;

REVOKE ALL ON FUNCTION auth_resolve_token(bytea) FROM PUBLIC;

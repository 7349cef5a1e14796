-- auth_touch_token(token, idle): records a token's activity, at most once a minute, in a short
-- transaction of its own after the response; a session's expiry slides by `p_idle`, never past
-- its absolute limit.
CREATE OR REPLACE FUNCTION auth_touch_token(p_token_id uuid, p_idle interval) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    UPDATE auth_tokens SET
        last_used_at = now(),
        expires_at = CASE WHEN kind = 'session'
                          THEN least(now() + p_idle, absolute_expires_at)
                          ELSE expires_at END
    WHERE id = p_token_id AND revoked_at IS NULL
      AND last_used_at < now() - interval '1 minute'
$$;

REVOKE ALL ON FUNCTION auth_touch_token(uuid, interval) FROM PUBLIC;

-- auth_find_account(email): the one account login by email needs, before any user is known.
-- The application role cannot see users then (RLS); this SECURITY DEFINER function, owned by
-- the owner role (which bypasses RLS), returns only what that step needs.
CREATE OR REPLACE FUNCTION auth_find_account(p_email text)
RETURNS TABLE (user_id uuid, password_hash text, is_active boolean, deactivated_by text,
               email_verified boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT id, password_hash, is_active, deactivated_by, email_verified_at IS NOT NULL
    FROM users WHERE email = p_email
$$;

REVOKE ALL ON FUNCTION auth_find_account(text) FROM PUBLIC;

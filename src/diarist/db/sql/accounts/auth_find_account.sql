-- auth_find_account(email_index): the one account login by email needs, before any user is
-- known, found by the address' keyed blind index (the address itself is sealed; see
-- accounts/personal_data.py). The application role cannot see users then (RLS); this SECURITY
-- DEFINER function, owned by the owner role (which bypasses RLS), returns only what that step
-- needs.
CREATE OR REPLACE FUNCTION auth_find_account(p_email_index bytea)
RETURNS TABLE (user_id uuid, password_hash text, is_active boolean, deactivated_by text,
               email_verified boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT id, password_hash, is_active, deactivated_by, email_verified_at IS NOT NULL
    FROM users WHERE email_index = p_email_index
$$;

REVOKE ALL ON FUNCTION auth_find_account(bytea) FROM PUBLIC;

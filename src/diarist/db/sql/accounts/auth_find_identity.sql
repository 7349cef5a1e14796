-- auth_find_identity(issuer, subject): the account an OpenID Connect identity is linked to,
-- before any user is known (signing in with a provider; linking one, to refuse an identity
-- that is another account's). Like auth_find_account: SECURITY DEFINER, owned by the owner
-- role (which bypasses RLS), returning only what the sign-in step needs.
CREATE OR REPLACE FUNCTION auth_find_identity(p_issuer text, p_subject text)
RETURNS TABLE (user_id uuid, password_hash text, is_active boolean, deactivated_by text,
               email_verified boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT u.id, u.password_hash, u.is_active, u.deactivated_by, u.email_verified_at IS NOT NULL
    FROM user_identities i JOIN users u ON u.id = i.user_id
    WHERE i.issuer = p_issuer AND i.subject = p_subject
$$;

REVOKE ALL ON FUNCTION auth_find_identity(text, text) FROM PUBLIC;

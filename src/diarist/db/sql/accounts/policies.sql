-- Row-level security of the accounts tables: a user's own account row (keyed on id), tokens,
-- one-time codes, security events and linked OpenID Connect identities.
-- One owner-only policy per table, as diarist.db.rls.enable_owner_rls() made them: a row is
-- visible and writable only when its owner column equals diarist_current_user_id() (the
-- transaction's tenant, kit/current_user_id.sql); with no tenant, no row is.

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS users_owner_only ON users;
CREATE POLICY users_owner_only ON users
    USING (id = diarist_current_user_id())
    WITH CHECK (id = diarist_current_user_id());

ALTER TABLE auth_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth_tokens FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS auth_tokens_owner_only ON auth_tokens;
CREATE POLICY auth_tokens_owner_only ON auth_tokens
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE auth_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth_codes FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS auth_codes_owner_only ON auth_codes;
CREATE POLICY auth_codes_owner_only ON auth_codes
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE security_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE security_events FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS security_events_owner_only ON security_events;
CREATE POLICY security_events_owner_only ON security_events
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE user_identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_identities FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS user_identities_owner_only ON user_identities;
CREATE POLICY user_identities_owner_only ON user_identities
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

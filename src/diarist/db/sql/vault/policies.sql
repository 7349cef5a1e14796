-- Row-level security of the vault: secret tags, their login handshakes and unlocked sessions,
-- wrapped keys and blobs. One owner-only policy each, as diarist.db.rls.enable_owner_rls()
-- made it (kit/current_user_id.sql).

ALTER TABLE secret_tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE secret_tags FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS secret_tags_owner_only ON secret_tags;
CREATE POLICY secret_tags_owner_only ON secret_tags
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE opaque_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE opaque_sessions FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS opaque_sessions_owner_only ON opaque_sessions;
CREATE POLICY opaque_sessions_owner_only ON opaque_sessions
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE vault_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE vault_sessions FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS vault_sessions_owner_only ON vault_sessions;
CREATE POLICY vault_sessions_owner_only ON vault_sessions
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE vault_wrapped_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE vault_wrapped_keys FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS vault_wrapped_keys_owner_only ON vault_wrapped_keys;
CREATE POLICY vault_wrapped_keys_owner_only ON vault_wrapped_keys
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE vault_blobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE vault_blobs FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS vault_blobs_owner_only ON vault_blobs;
CREATE POLICY vault_blobs_owner_only ON vault_blobs
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

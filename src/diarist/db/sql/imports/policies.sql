-- Row-level security of imports (one row per import started over the API).
-- One owner-only policy, as diarist.db.rls.enable_owner_rls() made it: a row is visible and
-- writable only when its owner column equals diarist_current_user_id() (the transaction's
-- tenant, kit/current_user_id.sql); with no tenant, no row is.

ALTER TABLE imports ENABLE ROW LEVEL SECURITY;
ALTER TABLE imports FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS imports_owner_only ON imports;
CREATE POLICY imports_owner_only ON imports
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

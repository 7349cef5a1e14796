-- Row-level security of the audit trail: a user reads the trail of their own rows and
-- writes none of it (no policy allows a write: the trigger function, owned by the owner
-- role, writes it). Partitions are reached only through audit_log (partitions.sql).

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS audit_log_owner_reads ON audit_log;
CREATE POLICY audit_log_owner_reads ON audit_log FOR SELECT
    USING (user_id = diarist_current_user_id());

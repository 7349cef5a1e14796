-- Row-level security of attachments: the stored objects (attachment_blobs) and the files on
-- entries (attachments). One owner-only policy each, as diarist.db.rls.enable_owner_rls()
-- made it: a row is visible and writable only when its owner column equals
-- diarist_current_user_id() (the transaction's tenant, kit/current_user_id.sql); with no
-- tenant, no row is.

ALTER TABLE attachment_blobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE attachment_blobs FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS attachment_blobs_owner_only ON attachment_blobs;
CREATE POLICY attachment_blobs_owner_only ON attachment_blobs
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE attachments ENABLE ROW LEVEL SECURITY;
ALTER TABLE attachments FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS attachments_owner_only ON attachments;
CREATE POLICY attachments_owner_only ON attachments
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

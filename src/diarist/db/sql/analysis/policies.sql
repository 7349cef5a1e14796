-- Row-level security of the analysis tables: results, embeddings, topics and entry topics.
-- One owner-only policy per table, as diarist.db.rls.enable_owner_rls() made them: a row is
-- visible and writable only when its owner column equals diarist_current_user_id() (the
-- transaction's tenant, kit/current_user_id.sql); with no tenant, no row is.

ALTER TABLE processed_content ENABLE ROW LEVEL SECURITY;
ALTER TABLE processed_content FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS processed_content_owner_only ON processed_content;
CREATE POLICY processed_content_owner_only ON processed_content
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE entry_embeddings ENABLE ROW LEVEL SECURITY;
ALTER TABLE entry_embeddings FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS entry_embeddings_owner_only ON entry_embeddings;
CREATE POLICY entry_embeddings_owner_only ON entry_embeddings
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE topics ENABLE ROW LEVEL SECURITY;
ALTER TABLE topics FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS topics_owner_only ON topics;
CREATE POLICY topics_owner_only ON topics
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE entry_topics ENABLE ROW LEVEL SECURITY;
ALTER TABLE entry_topics FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS entry_topics_owner_only ON entry_topics;
CREATE POLICY entry_topics_owner_only ON entry_topics
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

-- Row-level security of the journal tables: entries, their revisions, tags, tag links and
-- each user's vocabulary with its log of changes.
-- One owner-only policy per table, as diarist.db.rls.enable_owner_rls() made them: a row is
-- visible and writable only when its owner column equals diarist_current_user_id() (the
-- transaction's tenant, kit/current_user_id.sql); with no tenant, no row is.

ALTER TABLE entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE entries FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS entries_owner_only ON entries;
CREATE POLICY entries_owner_only ON entries
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE entry_revisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE entry_revisions FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS entry_revisions_owner_only ON entry_revisions;
CREATE POLICY entry_revisions_owner_only ON entry_revisions
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE tags FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tags_owner_only ON tags;
CREATE POLICY tags_owner_only ON tags
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE tag_relationships ENABLE ROW LEVEL SECURITY;
ALTER TABLE tag_relationships FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tag_relationships_owner_only ON tag_relationships;
CREATE POLICY tag_relationships_owner_only ON tag_relationships
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE entry_tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE entry_tags FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS entry_tags_owner_only ON entry_tags;
CREATE POLICY entry_tags_owner_only ON entry_tags
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE user_words ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_words FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS user_words_owner_only ON user_words;
CREATE POLICY user_words_owner_only ON user_words
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE vocabulary_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE vocabulary_changes FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS vocabulary_changes_owner_only ON vocabulary_changes;
CREATE POLICY vocabulary_changes_owner_only ON vocabulary_changes
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

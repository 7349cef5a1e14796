-- Row-level security of the insights tables: the dirty-day log, per-day statistics and
-- stored insights.
-- One owner-only policy per table, as diarist.db.rls.enable_owner_rls() made them: a row is
-- visible and writable only when its owner column equals diarist_current_user_id() (the
-- transaction's tenant, kit/current_user_id.sql); with no tenant, no row is.

ALTER TABLE stats_dirty_days ENABLE ROW LEVEL SECURITY;
ALTER TABLE stats_dirty_days FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS stats_dirty_days_owner_only ON stats_dirty_days;
CREATE POLICY stats_dirty_days_owner_only ON stats_dirty_days
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE stats_days ENABLE ROW LEVEL SECURITY;
ALTER TABLE stats_days FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS stats_days_owner_only ON stats_days;
CREATE POLICY stats_days_owner_only ON stats_days
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE stats_day_subjects ENABLE ROW LEVEL SECURITY;
ALTER TABLE stats_day_subjects FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS stats_day_subjects_owner_only ON stats_day_subjects;
CREATE POLICY stats_day_subjects_owner_only ON stats_day_subjects
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE insights ENABLE ROW LEVEL SECURITY;
ALTER TABLE insights FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS insights_owner_only ON insights;
CREATE POLICY insights_owner_only ON insights
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

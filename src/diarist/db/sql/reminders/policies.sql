-- Row-level security of reminders: reminders, their deliveries, the notification feed, the
-- user's webhook, calendar feed and push subscriptions. One owner-only policy each, as
-- diarist.db.rls.enable_owner_rls() made it: a row is visible and writable only when its owner
-- column equals diarist_current_user_id() (the transaction's tenant, kit/current_user_id.sql);
-- with no tenant, no row is.

ALTER TABLE reminders ENABLE ROW LEVEL SECURITY;
ALTER TABLE reminders FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS reminders_owner_only ON reminders;
CREATE POLICY reminders_owner_only ON reminders
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE reminder_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE reminder_deliveries FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS reminder_deliveries_owner_only ON reminder_deliveries;
CREATE POLICY reminder_deliveries_owner_only ON reminder_deliveries
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE notifications FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS notifications_owner_only ON notifications;
CREATE POLICY notifications_owner_only ON notifications
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE notification_webhooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_webhooks FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS notification_webhooks_owner_only ON notification_webhooks;
CREATE POLICY notification_webhooks_owner_only ON notification_webhooks
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE calendar_feeds ENABLE ROW LEVEL SECURITY;
ALTER TABLE calendar_feeds FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS calendar_feeds_owner_only ON calendar_feeds;
CREATE POLICY calendar_feeds_owner_only ON calendar_feeds
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

ALTER TABLE push_subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE push_subscriptions FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS push_subscriptions_owner_only ON push_subscriptions;
CREATE POLICY push_subscriptions_owner_only ON push_subscriptions
    USING (user_id = diarist_current_user_id())
    WITH CHECK (user_id = diarist_current_user_id());

-- What the journal tells a user in their notification feed besides reminders, as the user's
-- notification preferences ask (seed 000): `processing_complete` — an entry's analysis is
-- done; `email_insights` — a new insight, into the feed and by email (the worker's reminder
-- task mails feed rows marked email_pending). Run by the writing transaction itself (the
-- analysis job, the insights job), under its tenant; `source` makes each news told once.

CREATE OR REPLACE FUNCTION notify_entry_analysed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications (user_id, kind, title, body, link, source)
    SELECT NEW.user_id, 'system', 'An entry is analysed',
           left(coalesce(nullif(NEW.title, ''), 'An entry without a title'), 5000),
           '/entries/' || NEW.id, 'analysed:' || NEW.id || ':' || NEW.version
    FROM users u
    WHERE u.id = NEW.user_id
      AND (u.preferences #>> '{notifications,processing_complete}') = 'true'
    ON CONFLICT ON CONSTRAINT uq_notifications_user_id_source DO NOTHING;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS entries_notify_analysed ON entries;
CREATE TRIGGER entries_notify_analysed
    AFTER UPDATE OF processing_status ON entries
    FOR EACH ROW
    WHEN (NEW.processing_status = 'completed'
          AND OLD.processing_status IS DISTINCT FROM 'completed')
    EXECUTE FUNCTION notify_entry_analysed();

CREATE OR REPLACE FUNCTION notify_new_insight() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications (user_id, kind, title, body, link, source, email_pending)
    SELECT NEW.user_id, 'system', 'Something stands out in your journal',
           left(coalesce(NEW.insight_data ->> 'summary', ''), 5000), '/insights',
           'insight:' || NEW.id, true
    FROM users u
    WHERE u.id = NEW.user_id
      AND (u.preferences #>> '{notifications,email_insights}') = 'true'
    ON CONFLICT ON CONSTRAINT uq_notifications_user_id_source DO NOTHING;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS insights_notify_new ON insights;
CREATE TRIGGER insights_notify_new
    AFTER INSERT ON insights
    FOR EACH ROW
    EXECUTE FUNCTION notify_new_insight();

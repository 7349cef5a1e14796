-- tags.usage_count: the number of live (not trashed) entries carrying a tag. Every change is a
-- single atomic UPDATE, so concurrent writers never lose a count. While a user is being
-- deleted (their row is gone, everything else follows by cascade) there is nothing to count.
--
-- entry_tags_added: the links one statement adds to live entries count their tags up, one
-- UPDATE per tag for the whole statement (an import links thousands at once).
-- entry_tags_usage: a link removed from a live entry counts its tag down.
-- entries_usage: an entry trashed, restored or deleted counts all its tags down or up at once
-- (BEFORE, so that its links are still there to be read).
CREATE OR REPLACE FUNCTION entry_tags_added() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE tags t SET usage_count = t.usage_count + counted.links
    FROM (
        -- A subquery per link, not a join: the planner knows nothing of `added`, and a join
        -- may read every entry to find a few.
        SELECT a.tag_id, count(*)::integer AS links
        FROM added a
        WHERE (SELECT e.deleted_at IS NULL FROM entries e WHERE e.id = a.entry_id)
          AND (SELECT true FROM users u WHERE u.id = a.user_id)
        GROUP BY a.tag_id
    ) AS counted
    WHERE t.id = counted.tag_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION entry_tags_usage() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id) THEN
        RETURN NULL;
    END IF;
    -- A link removed with its entry was already uncounted by entries_usage().
    UPDATE tags SET usage_count = usage_count - 1
    WHERE id = OLD.tag_id
      AND EXISTS (SELECT 1 FROM entries WHERE id = OLD.entry_id AND deleted_at IS NULL);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION entries_usage() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    delta integer;
    target uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.deleted_at IS NOT NULL THEN
            RETURN OLD;
        END IF;
        delta := -1;
        target := OLD.id;
    ELSIF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
        delta := -1;
        target := NEW.id;
    ELSIF OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN
        delta := 1;
        target := NEW.id;
    ELSE
        RETURN NEW;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id) THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    UPDATE tags t SET usage_count = t.usage_count + delta
    FROM (SELECT tag_id FROM entry_tags WHERE entry_id = target ORDER BY tag_id) AS linked
    WHERE t.id = linked.tag_id;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE OR REPLACE TRIGGER entry_tags_added
    AFTER INSERT ON entry_tags REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION entry_tags_added();

CREATE OR REPLACE TRIGGER entry_tags_usage
    AFTER DELETE ON entry_tags
    FOR EACH ROW EXECUTE FUNCTION entry_tags_usage();

CREATE OR REPLACE TRIGGER entries_usage
    BEFORE DELETE OR UPDATE OF deleted_at ON entries
    FOR EACH ROW EXECUTE FUNCTION entries_usage();

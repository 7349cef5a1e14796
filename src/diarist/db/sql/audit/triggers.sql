-- The audited tables (docs/audit.md): what a user writes and their account, not what is
-- derived from it (analysis, embeddings, statistics, insights, the feed) nor sign-in
-- bookkeeping (tokens, codes; security_events is that log). Diary text and personal details
-- are hashed (audit_hash); secrets (a password's hash, a webhook's secret, a feed's token, a
-- browser's keys) and derived or bookkeeping columns are left out altogether (an UPDATE that
-- changes only those is not recorded).
--
-- For each table this generates its trigger function, audit_<table>(), from the table's
-- columns as they are when it runs — a revision that adds a column to an audited table runs
-- this file again — and three statement-level triggers (one per event: a trigger with
-- transition tables serves one), so a COPY of 100,000 rows writes its trail in one INSERT.
-- The functions are SECURITY DEFINER: the owner role writes the trail; other roles only
-- read their own rows of it (policies.sql, partitions.sql).

-- True while the session's own account is being erased (accounts/repository.delete_user sets
-- `diarist.erasing` to its id): its rows go by cascade and audit_forget takes its trail, so
-- nothing is added meanwhile. Only the acting account, and only once its row is gone: a
-- session that sets the flag for an account that is still there (its own, or any other) is
-- audited as ever.
CREATE OR REPLACE FUNCTION audit_erasing()
RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp
AS $$
DECLARE
    erasing text := nullif(current_setting('diarist.erasing', true), '');
BEGIN
    IF erasing IS NULL OR erasing IS DISTINCT FROM current_setting('diarist.user_id', true) THEN
        RETURN false;
    END IF;
    RETURN NOT EXISTS (SELECT 1 FROM users WHERE id = erasing::uuid);
END
$$;

DO $$
DECLARE
    audited record;
    op text;
    function_name text;
    row_values text;
    row_key text;
    changed text;
    joined text;
BEGIN
    FOR audited IN SELECT name, owner_column, string_to_array(key_columns, ',') AS keys,
                          string_to_array(hashed, ',') AS hashed,
                          string_to_array(skipped, ',') AS skipped
                   FROM (VALUES
        -- The address: its blind index hashed (a change of address is recorded), its sealed
        -- form left out (sealing it again under a new key is no change). `email` is the
        -- column before revision 0029 sealed it.
        ('users', 'id', 'id', 'email,email_index,name,auth_provider_id',
         'email_sealed,password_hash,updated_at,last_login_at'),
        ('entries', 'user_id', 'id', 'title,raw_data,content,metadata,analysis_error',
         'search_vector,search_config,updated_at,processing_status,analysis_requested_at,'
         'analysis_attempts,analyzed_hash,word_count,content_hash,idempotency_key,'
         'idempotency_hash,import_hash'),
        ('entry_revisions', 'user_id', 'id', 'title,raw_data', ''),
        ('entry_tags', 'user_id', 'entry_id,tag_id', 'assignment_context', ''),
        ('tags', 'user_id', 'id', 'name,name_key,description', 'usage_count,updated_at'),
        ('attachments', 'user_id', 'id', 'file_name,metadata,source_id', ''),
        ('reminders', 'user_id', 'id', 'title,description',
         'next_at,due_at,last_fired_at,updated_at'),
        ('notification_webhooks', 'user_id', 'id', 'url', 'secret'),
        ('calendar_feeds', 'user_id', 'id', '', 'token_hash'),
        ('push_subscriptions', 'user_id', 'id', 'endpoint', 'p256dh,auth'),
        ('user_identities', 'user_id', 'id', 'subject,email', 'email_sealed,last_used_at')
    ) AS t (name, owner_column, key_columns, hashed, skipped)
    LOOP
        function_name := 'audit_' || audited.name;
        SELECT
            'jsonb_build_object(' || string_agg(format('%L, %s', a.attname,
                CASE WHEN a.attname = ANY (audited.hashed)
                     THEN format('audit_hash(__row.%I::text)', a.attname)
                     ELSE format('__row.%I', a.attname) END), ', ' ORDER BY a.attnum) || ')',
            'array_remove(ARRAY[' || string_agg(
                format('CASE WHEN o.%1$I IS DISTINCT FROM n.%1$I THEN %1$L END', a.attname),
                ', ' ORDER BY a.attnum) || ']::text[], NULL)'
        INTO row_values, changed
        FROM pg_attribute a
        WHERE a.attrelid = audited.name::regclass AND a.attnum > 0 AND NOT a.attisdropped
          AND NOT a.attname = ANY (audited.skipped);
        SELECT string_agg(format('__row.%I::text', key), ' || ''/'' || '),
               string_agg(format('o.%1$I = n.%1$I', key), ' AND ')
        INTO row_key, joined
        FROM unnest(audited.keys) key;
        EXECUTE format($function$
CREATE OR REPLACE FUNCTION %1$I()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $body$
DECLARE
    actor uuid := nullif(current_setting('diarist.user_id', true), '')::uuid;
    request text := nullif(current_setting('diarist.request_id', true), '');
BEGIN
    -- An account being erased takes its trail with it (audit_forget); nothing is added.
    IF audit_erasing() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (user_id, actor_id, actor_role, table_name, operation, row_key,
                               new_values, request_id)
        SELECT n.%2$I, actor, session_user, %3$L, 'INSERT', %4$s, %5$s, request
        FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audit_log (user_id, actor_id, actor_role, table_name, operation, row_key,
                               old_values, request_id)
        SELECT o.%2$I, actor, session_user, %3$L, 'DELETE', %6$s, %7$s, request
        FROM old_rows o;
    ELSE
        INSERT INTO audit_log (user_id, actor_id, actor_role, table_name, operation, row_key,
                               changed, old_values, new_values, request_id)
        SELECT n.%2$I, actor, session_user, %3$L, 'UPDATE', %4$s, c.changed,
               audit_pick(%7$s, c.changed), audit_pick(%5$s, c.changed), request
        FROM old_rows o JOIN new_rows n ON %8$s
        CROSS JOIN LATERAL (SELECT %9$s AS changed) c
        WHERE cardinality(c.changed) > 0;
    END IF;
    RETURN NULL;
END
$body$
            $function$, function_name, audited.owner_column, audited.name,
            replace(row_key, '__row.', 'n.'), replace(row_values, '__row.', 'n.'),
            replace(row_key, '__row.', 'o.'), replace(row_values, '__row.', 'o.'), joined,
            changed);
        EXECUTE format('REVOKE ALL ON FUNCTION %I() FROM PUBLIC', function_name);
        FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', audited.name || '_audit_' || op,
                           audited.name);
            EXECUTE format(
                'CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s FOR EACH STATEMENT'
                ' EXECUTE FUNCTION %I()',
                audited.name || '_audit_' || op, upper(op), audited.name,
                CASE op WHEN 'insert' THEN 'NEW TABLE AS new_rows'
                        WHEN 'delete' THEN 'OLD TABLE AS old_rows'
                        ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows' END,
                function_name);
        END LOOP;
    END LOOP;
END
$$;

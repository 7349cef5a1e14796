-- diarist_current_user_id(): the tenant of the current transaction, read from the setting
-- `diarist.user_id` (set by auth_resolve_token() or the unit of work). An empty or missing
-- setting means "no user": NULL, which every owner-only policy compares as not equal.
CREATE OR REPLACE FUNCTION diarist_current_user_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('diarist.user_id', true), '')::uuid $$;

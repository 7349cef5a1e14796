-- The audit trail's monthly partitions, kept by the worker's daily job through these SECURITY
-- DEFINER functions (the owner role owns audit_log; only a role that bypasses RLS — the
-- system role — may call them). A partition is reached only through audit_log, whose RLS
-- applies: every privilege on it is revoked. Rows written while no partition covered their
-- month wait in audit_log_default and move into the partition made for it.

-- Close the trail to every role but its owner: audit_log may only be read (the trigger
-- function, the owner's, writes it), a partition not even that (it has no RLS of its own).
-- Run after each partition is made and by provisioning after its blanket grants.
CREATE OR REPLACE FUNCTION audit_close()
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    target regclass;
    grantee text;
BEGIN
    FOR target, grantee IN
        SELECT DISTINCT c.oid::regclass,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END
        FROM pg_class c
        CROSS JOIN LATERAL aclexplode(c.relacl) a
        LEFT JOIN pg_roles r ON r.oid = a.grantee
        WHERE (c.oid = 'audit_log'::regclass
               OR c.oid IN (SELECT inhrelid FROM pg_inherits
                            WHERE inhparent = 'audit_log'::regclass))
          AND a.grantee <> c.relowner
    LOOP
        IF target = 'audit_log'::regclass THEN
            EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON TABLE audit_log FROM %s',
                           grantee);
        ELSE
            EXECUTE format('REVOKE ALL ON TABLE %s FROM %s', target, grantee);
        END IF;
    END LOOP;
END
$$;

-- Whether the session's role bypasses RLS (the owner or the system role, not the application).
CREATE OR REPLACE FUNCTION audit_is_system()
RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT coalesce((SELECT rolbypassrls FROM pg_roles WHERE rolname = session_user), false)
$$;

CREATE OR REPLACE FUNCTION audit_require_system()
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF NOT audit_is_system() THEN
        RAISE EXCEPTION 'the audit partitions are kept by the system role'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION audit_partitions_ensure(p_months_ahead integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    month date;
    part text;
    made integer := 0;
BEGIN
    PERFORM audit_require_system();
    FOR ahead IN 0..p_months_ahead LOOP
        month := (date_trunc('month', now()) + make_interval(months => ahead))::date;
        part := format('audit_log_p%s', to_char(month, 'YYYYMM'));
        CONTINUE WHEN to_regclass(part) IS NOT NULL;
        -- No row may reach the default partition between the move below and the attach
        -- (the attach would find it there and fail): writers of the trail wait meanwhile.
        LOCK TABLE audit_log_default IN SHARE ROW EXCLUSIVE MODE;
        EXECUTE format('CREATE TABLE %I (LIKE audit_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                       part);
        EXECUTE format('WITH moved AS (DELETE FROM audit_log_default WHERE at >= %L AND at < %L'
                       ' RETURNING *) INSERT INTO %I SELECT * FROM moved',
                       month, (month + interval '1 month')::date, part);
        EXECUTE format('ALTER TABLE audit_log ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                       part, month, (month + interval '1 month')::date);
        made := made + 1;
    END LOOP;
    PERFORM audit_close();
    RETURN made;
END
$$;

REVOKE ALL ON FUNCTION audit_partitions_ensure(integer) FROM PUBLIC;

-- Drop the whole months that end on or before p_before (retention), and default-partition
-- rows older than it; how many partitions went.
CREATE OR REPLACE FUNCTION audit_partitions_drop(p_before date)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    part text;
    dropped integer := 0;
BEGIN
    PERFORM audit_require_system();
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'audit_log'::regclass AND c.relname ~ '^audit_log_p[0-9]{6}$'
          AND (to_date(substr(c.relname, 12), 'YYYYMM') + interval '1 month')::date <= p_before
        ORDER BY 1
    LOOP
        EXECUTE format('DROP TABLE %I', part);
        dropped := dropped + 1;
    END LOOP;
    DELETE FROM audit_log_default WHERE at < p_before;
    RETURN dropped;
END
$$;

REVOKE ALL ON FUNCTION audit_partitions_drop(date) FROM PUBLIC;

-- An account's whole trail, erased with the account (its owner, or the system role) — and
-- only once the account is gone: a session cannot wipe the trail of an account that stays.
CREATE OR REPLACE FUNCTION audit_forget(p_user uuid)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    forgotten bigint;
BEGIN
    IF p_user IS DISTINCT FROM diarist_current_user_id()
       AND NOT audit_is_system()
    THEN
        RAISE EXCEPTION 'only its owner erases an account''s trail'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT 1 FROM users WHERE id = p_user) THEN
        RAISE EXCEPTION 'an account''s trail goes only with the account: delete it first'
            USING ERRCODE = 'object_in_use';
    END IF;
    DELETE FROM audit_log WHERE user_id = p_user;
    GET DIAGNOSTICS forgotten = ROW_COUNT;
    RETURN forgotten;
END
$$;

REVOKE ALL ON FUNCTION audit_forget(uuid) FROM PUBLIC;

-- Helpers of the audit trail's trigger functions (generated per table by triggers.sql).

-- Diary text or a personal detail as the audit trail keeps it: its SHA-256 and length.
CREATE OR REPLACE FUNCTION audit_hash(value text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN value IS NULL THEN 'null'::jsonb
                ELSE jsonb_build_object('sha256', encode(sha256(convert_to(value, 'UTF8')), 'hex'),
                                        'length', length(value)) END
$$;

-- The named keys of a document (an update's changed columns).
CREATE OR REPLACE FUNCTION audit_pick(doc jsonb, keys text[])
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(jsonb_object_agg(key, doc -> key), '{}'::jsonb) FROM unnest(keys) key
$$;

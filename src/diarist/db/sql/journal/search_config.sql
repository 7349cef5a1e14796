-- diarist_search_config(language): the text search configuration that a user's entries are
-- indexed and searched with, from their language preference (ISO 639-1, a region ignored:
-- `de-CH` -> diarist_german). The accent-insensitive configurations are the journal
-- migration's; English keeps PostgreSQL's own (accents are rare, stemming matters more); no
-- language is English, and an unknown one gets unaccented words without stemming. In SQL, so
-- that a hot read can name the tenant's configuration without asking for it first.
CREATE OR REPLACE FUNCTION diarist_search_config(p_language text) RETURNS regconfig
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = public, pg_catalog
AS $$
    SELECT (CASE lower(split_part(coalesce(nullif(p_language, ''), 'en'), '-', 1))
        WHEN 'en' THEN 'english'
        WHEN 'da' THEN 'diarist_danish'
        WHEN 'nl' THEN 'diarist_dutch'
        WHEN 'fi' THEN 'diarist_finnish'
        WHEN 'fr' THEN 'diarist_french'
        WHEN 'de' THEN 'diarist_german'
        WHEN 'hu' THEN 'diarist_hungarian'
        WHEN 'it' THEN 'diarist_italian'
        WHEN 'no' THEN 'diarist_norwegian'
        WHEN 'nb' THEN 'diarist_norwegian'
        WHEN 'nn' THEN 'diarist_norwegian'
        WHEN 'pt' THEN 'diarist_portuguese'
        WHEN 'ro' THEN 'diarist_romanian'
        WHEN 'ru' THEN 'diarist_russian'
        WHEN 'es' THEN 'diarist_spanish'
        WHEN 'sv' THEN 'diarist_swedish'
        WHEN 'tr' THEN 'diarist_turkish'
        ELSE 'diarist_simple'
    END)::regconfig
$$;

-- The acting user's (the transaction's tenant's) configuration; English without a tenant.
CREATE OR REPLACE FUNCTION diarist_my_search_config() RETURNS regconfig
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = public, pg_catalog
AS $$
    SELECT diarist_search_config(
        (SELECT preferences ->> 'language' FROM users WHERE id = diarist_current_user_id())
    )
$$;

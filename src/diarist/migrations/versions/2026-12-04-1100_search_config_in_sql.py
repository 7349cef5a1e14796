"""search configuration in SQL: diarist_search_config(language) maps a language to the text
search configuration its entries are indexed with (the mapping moves here from Python), and
diarist_my_search_config() names the tenant's, so that a keyword search can leave in the same
round trip as its token check

Revision ID: 0011_search_config_in_sql
Revises: 0010_language_reindex_trigger
Create Date: 2026-12-04 11:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_search_config_in_sql"
down_revision: str | None = "0010_language_reindex_trigger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The current text lives in diarist/db/sql/journal/search_config.sql; this revision keeps its
# own copy, as history.
_SEARCH_CONFIG = """
CREATE FUNCTION diarist_search_config(p_language text) RETURNS regconfig
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
$$
"""

_MY_SEARCH_CONFIG = """
CREATE FUNCTION diarist_my_search_config() RETURNS regconfig
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = public, pg_catalog
AS $$
    SELECT diarist_search_config(
        (SELECT preferences ->> 'language' FROM users WHERE id = diarist_current_user_id())
    )
$$
"""


def upgrade() -> None:
    op.execute(_SEARCH_CONFIG)
    op.execute(_MY_SEARCH_CONFIG)


def downgrade() -> None:
    op.execute("DROP FUNCTION diarist_my_search_config()")
    op.execute("DROP FUNCTION diarist_search_config(text)")

"""keyword candidates capped: search_entry_ids() takes how many of the newest matches to rank
(ranking reads each match's whole tsvector; a word in most of a large journal ranked them all)

Revision ID: 0013_keyword_candidates
Revises: 0012_vocabulary_changes
Create Date: 2026-12-04 11:45:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from diarist.db.sql import read_sql

revision: str = "0013_keyword_candidates"
down_revision: str | None = "0012_vocabulary_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the journal revision made: every match ranked.
_UNCAPPED = """
CREATE FUNCTION search_entry_ids(p_query tsquery, p_deleted boolean)
RETURNS TABLE (entry_id uuid, score real)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
ROWS 200
AS $$
    SELECT e.id, ts_rank_cd(e.search_vector, p_query, 32)
    FROM entries e
    WHERE e.user_id = diarist_current_user_id()
      AND e.search_vector @@ p_query
      AND (e.deleted_at IS NOT NULL) = p_deleted
$$
"""


def upgrade() -> None:
    op.execute("DROP FUNCTION search_entry_ids(tsquery, boolean)")
    op.execute(read_sql("search/search_entry_ids.sql"))


def downgrade() -> None:
    op.execute("DROP FUNCTION search_entry_ids(tsquery, boolean, integer)")
    op.execute(_UNCAPPED)
    op.execute("REVOKE ALL ON FUNCTION search_entry_ids(tsquery, boolean) FROM PUBLIC")

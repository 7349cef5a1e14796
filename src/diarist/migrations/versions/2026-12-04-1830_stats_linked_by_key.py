"""stats linked by key: the statement-level trigger that logs the days of written entry_tags,
entry_topics and processed_content rows looks each row's entry up by its key (LATERAL) instead
of joining the transition table to the user's entries, which read every entry of the user
for each statement

Revision ID: 0023_stats_linked_by_key
Revises: 0022_import_attachments
Create Date: 2026-12-04 18:30:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from diarist.db.sql import read_sql

revision: str = "0023_stats_linked_by_key"
down_revision: str | None = "0022_import_attachments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What revision 0008 made: a join of the transition table and entries.
_JOINED = """
CREATE OR REPLACE FUNCTION stats_mark_linked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO stats_dirty_days (user_id, day)
        SELECT DISTINCT l.user_id, l.day FROM (
            SELECT e.user_id, ((e.entry_date AT TIME ZONE e.timezone)::date) AS day
            FROM old_rows r JOIN entries e ON e.id = r.entry_id AND e.user_id = r.user_id
            FOR KEY SHARE OF e
        ) l;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO stats_dirty_days (user_id, day)
        SELECT DISTINCT l.user_id, l.day FROM (
            SELECT e.user_id, ((e.entry_date AT TIME ZONE e.timezone)::date) AS day
            FROM new_rows r JOIN entries e ON e.id = r.entry_id AND e.user_id = r.user_id
            FOR KEY SHARE OF e
        ) l;
    END IF;
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.execute(read_sql("insights/stats_mark_linked.sql"))


def downgrade() -> None:
    op.execute(_JOINED)

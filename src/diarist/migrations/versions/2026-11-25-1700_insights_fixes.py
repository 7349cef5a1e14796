"""insights fixes: the linked-row trigger locks the entries it reads; fingerprints of stored
effects carry their direction, those of trends their window

Revision ID: 0008_insights_fixes
Revises: 0007_token_reads
Create Date: 2026-11-25 17:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_insights_fixes"
down_revision: str | None = "0007_token_reads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# entry_tags, entry_topics and processed_content: the days of the entries they belong to.
# FOR KEY SHARE OF e: a transaction that moves an entry (entry_date, timezone, deleted_at)
# holds FOR UPDATE on it (the journal service locks before it writes; DELETE does too), so
# this waits for it and reads the committed day, or it waits for this transaction and then
# marks both the old and the new day. Without the lock a link written beside a move could be
# recorded on the day the entry left only.
_MARK_LINKED = """
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
END $$
"""

_MARK_LINKED_0006 = """
CREATE OR REPLACE FUNCTION stats_mark_linked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO stats_dirty_days (user_id, day)
        SELECT DISTINCT e.user_id, ((e.entry_date AT TIME ZONE e.timezone)::date)
        FROM old_rows r JOIN entries e ON e.id = r.entry_id AND e.user_id = r.user_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO stats_dirty_days (user_id, day)
        SELECT DISTINCT e.user_id, ((e.entry_date AT TIME ZONE e.timezone)::date)
        FROM new_rows r JOIN entries e ON e.id = r.entry_id AND e.user_id = r.user_id;
    END IF;
    RETURN NULL;
END $$
"""

# Stored fingerprints in the new form, so that what a user dismissed stays dismissed: effects
# gain the direction of their evidence, trends the ISO week their window ended in.
_EFFECTS = "insight_type IN ('weekday_effect', 'tag_effect', 'topic_effect')"
_UPGRADE_FINGERPRINTS = f"""
UPDATE insights SET fingerprint = CASE
    WHEN insight_type = 'trend' THEN
        fingerprint || ':' || to_char((insight_data ->> 'to')::date, 'IYYY-"W"IW')
    WHEN (insight_data ->> 'difference')::float8 > 0 THEN fingerprint || ':' || 'higher'
    ELSE fingerprint || ':' || 'lower'
END
WHERE {_EFFECTS} OR insight_type = 'trend'
"""  # noqa: S608
# Back to the 0006 form; where both directions (or several weeks) were stored, the newest row
# stays (the next generation recomputes it anyway).
_DOWNGRADE_FINGERPRINTS = f"""
WITH old AS (
    SELECT id, user_id, CASE
        WHEN insight_type = 'trend' THEN regexp_replace(fingerprint, ':\\d{{4}}-W\\d{{2}}$', '')
        ELSE regexp_replace(fingerprint, ':(higher|lower)$', '')
    END AS fingerprint,
    row_number() OVER (PARTITION BY user_id, CASE
        WHEN insight_type = 'trend' THEN regexp_replace(fingerprint, ':\\d{{4}}-W\\d{{2}}$', '')
        ELSE regexp_replace(fingerprint, ':(higher|lower)$', '')
    END ORDER BY generated_at DESC, id DESC) AS rank
    FROM insights WHERE {_EFFECTS} OR insight_type = 'trend'
), gone AS (
    DELETE FROM insights i USING old WHERE i.id = old.id AND old.rank > 1
)
UPDATE insights i SET fingerprint = old.fingerprint FROM old
WHERE i.id = old.id AND old.rank = 1
"""  # noqa: S608


def upgrade() -> None:
    op.execute(_MARK_LINKED)
    op.execute(_UPGRADE_FINGERPRINTS)


def downgrade() -> None:
    op.execute(_DOWNGRADE_FINGERPRINTS)
    op.execute(_MARK_LINKED_0006)

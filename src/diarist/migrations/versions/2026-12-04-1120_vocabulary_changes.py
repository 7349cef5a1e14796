"""vocabulary off the request: a write of an entry records the words it gains and loses in
the append-only log vocabulary_changes (one row) instead of counting them into user_words row
by row; vocabulary_fold(user) counts them in (the worker every minute, search before it reads
the vocabulary)

Revision ID: 0012_vocabulary_changes
Revises: 0011_search_config_in_sql
Create Date: 2026-12-04 11:20:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from diarist.db.sql import read_sql

revision: str = "0012_vocabulary_changes"
down_revision: str | None = "0011_search_config_in_sql"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the journal revision made: each write counts its words into user_words itself.
_COUNTING_TRIGGER = """
CREATE OR REPLACE FUNCTION entries_vocabulary() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    old_words text[] := '{}';
    new_words text[] := '{}';
    removed text[];
    added text[];
    owner uuid;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.content IS NOT DISTINCT FROM NEW.content THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_words := journal_words(OLD.content);
        owner := OLD.user_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        new_words := journal_words(NEW.content);
        owner := NEW.user_id;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = owner) THEN
        RETURN NULL;  -- the user is being deleted; their words go by cascade
    END IF;
    removed := ARRAY(SELECT unnest(old_words) EXCEPT SELECT unnest(new_words));
    added := ARRAY(SELECT unnest(new_words) EXCEPT SELECT unnest(old_words));
    -- Lock every existing row this change touches, in one sorted order (no deadlocks), then
    -- count down, drop what reached zero, and count up.
    PERFORM 1 FROM user_words
    WHERE user_id = owner AND word = ANY (removed || added)
    ORDER BY word FOR UPDATE;
    UPDATE user_words SET entry_count = entry_count - 1
    WHERE user_id = owner AND word = ANY (removed);
    DELETE FROM user_words WHERE user_id = owner AND word = ANY (removed) AND entry_count = 0;
    INSERT INTO user_words (user_id, word, entry_count)
    SELECT owner, w, 1
    FROM unnest(added) AS w
    ORDER BY w
    ON CONFLICT (user_id, word) DO UPDATE SET entry_count = user_words.entry_count + 1;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "vocabulary_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("added", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("removed", sa.ARRAY(sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_vocabulary_changes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vocabulary_changes")),
    )
    op.create_index("ix_vocabulary_changes_user_id_id", "vocabulary_changes", ["user_id", "id"])
    op.execute(read_sql("journal/policies.sql"))
    op.execute(read_sql("journal/vocabulary_fold.sql"))
    op.execute(read_sql("journal/entries_vocabulary.sql"))


def downgrade() -> None:
    # What the file upgrade() runs defines since revision 0032 (new entries, once a statement).
    op.execute("DROP TRIGGER IF EXISTS entries_vocabulary_insert ON entries")
    op.execute("DROP FUNCTION IF EXISTS entries_vocabulary_inserted()")
    op.execute(_COUNTING_TRIGGER)
    op.execute(
        "CREATE OR REPLACE TRIGGER entries_vocabulary"
        " AFTER INSERT OR DELETE OR UPDATE OF content ON entries"
        " FOR EACH ROW EXECUTE FUNCTION entries_vocabulary()"
    )
    # Count what is still recorded, as the owner: forced RLS would show it no rows.
    op.execute("ALTER TABLE vocabulary_changes NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE user_words NO FORCE ROW LEVEL SECURITY")
    op.execute(
        "SELECT vocabulary_fold(u.user_id)"
        " FROM (SELECT DISTINCT user_id FROM vocabulary_changes) AS u"
    )
    op.execute("ALTER TABLE user_words FORCE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION vocabulary_fold(uuid)")
    op.drop_table("vocabulary_changes")  # its policy with it

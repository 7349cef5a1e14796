"""tag usage per statement: links added by one statement count their tags up in one UPDATE
per tag (a statement-level trigger with the added rows), instead of one UPDATE per link; the
row-level trigger keeps counting removed links down

Revision ID: 0017_tag_usage_per_statement
Revises: 0016_defer_jobs_in_batches
Create Date: 2026-12-04 15:45:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from diarist.db.sql import read_sql

revision: str = "0017_tag_usage_per_statement"
down_revision: str | None = "0016_defer_jobs_in_batches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What revision 0003 made: one UPDATE for each link added or removed.
_PER_LINK = """
CREATE OR REPLACE FUNCTION entry_tags_usage() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = coalesce(NEW.user_id, OLD.user_id)) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        UPDATE tags SET usage_count = usage_count + 1
        WHERE id = NEW.tag_id
          AND EXISTS (SELECT 1 FROM entries WHERE id = NEW.entry_id AND deleted_at IS NULL);
        RETURN NULL;
    END IF;
    -- A link removed with its entry was already uncounted by entries_usage().
    UPDATE tags SET usage_count = usage_count - 1
    WHERE id = OLD.tag_id
      AND EXISTS (SELECT 1 FROM entries WHERE id = OLD.entry_id AND deleted_at IS NULL);
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute("DROP TRIGGER entry_tags_usage ON entry_tags")
    op.execute(read_sql("journal/tag_usage.sql"))


def downgrade() -> None:
    op.execute("DROP TRIGGER entry_tags_added ON entry_tags")
    op.execute("DROP FUNCTION entry_tags_added()")
    op.execute("DROP TRIGGER entry_tags_usage ON entry_tags")
    op.execute(_PER_LINK)
    op.execute(
        "CREATE TRIGGER entry_tags_usage AFTER INSERT OR DELETE ON entry_tags "
        "FOR EACH ROW EXECUTE FUNCTION entry_tags_usage()"
    )

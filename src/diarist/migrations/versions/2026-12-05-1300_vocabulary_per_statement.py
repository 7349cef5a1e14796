"""vocabulary per statement: new entries' words are logged once a statement (one
vocabulary_changes row for a batch of imported entries, not a row trigger call and a row
each); changes and deletions stay a row each

Revision ID: 0032_vocabulary_per_statement
Revises: 0031_vault_oprf_salt
Create Date: 2026-12-05 13:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from diarist.db.sql import read_sql

revision: str = "0032_vocabulary_per_statement"
down_revision: str | None = "0031_vault_oprf_salt"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(read_sql("journal/entries_vocabulary.sql"))


def downgrade() -> None:
    op.execute("DROP TRIGGER entries_vocabulary_insert ON entries")
    op.execute("DROP FUNCTION entries_vocabulary_inserted()")
    op.execute(
        "CREATE OR REPLACE TRIGGER entries_vocabulary"
        " AFTER INSERT OR DELETE OR UPDATE OF content ON entries"
        " FOR EACH ROW EXECUTE FUNCTION entries_vocabulary()"
    )

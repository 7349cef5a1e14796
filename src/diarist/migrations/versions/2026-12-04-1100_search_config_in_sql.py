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

from diarist.db.sql import read_sql

revision: str = "0011_search_config_in_sql"
down_revision: str | None = "0010_language_reindex_trigger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(read_sql("journal/search_config.sql"))


def downgrade() -> None:
    op.execute("DROP FUNCTION diarist_my_search_config()")
    op.execute("DROP FUNCTION diarist_search_config(text)")

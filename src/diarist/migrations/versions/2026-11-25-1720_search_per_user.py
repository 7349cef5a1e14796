"""search per user: one GIN index over (user_id, search_vector), so a keyword match reads only
the user's postings instead of everyone's

Revision ID: 0009_search_per_user
Revises: 0008_insights_fixes
Create Date: 2026-11-25 17:20:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_search_per_user"
down_revision: str | None = "0008_insights_fixes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # btree_gin is a trusted extension: the owner role may create it. Like the others it is
    # never dropped (other objects may come to depend on it).
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.create_index(
        "ix_entries_user_id_search_vector",
        "entries",
        ["user_id", "search_vector"],
        postgresql_using="gin",
    )
    op.drop_index("ix_entries_search_vector", table_name="entries", postgresql_using="gin")


def downgrade() -> None:
    op.create_index(
        "ix_entries_search_vector", "entries", ["search_vector"], postgresql_using="gin"
    )
    op.drop_index("ix_entries_user_id_search_vector", table_name="entries", postgresql_using="gin")

"""entry import origin: where an imported entry came from (the importer and the source's own id)
and a digest of what was imported, so importing the same file again updates what changed and
duplicates nothing

Revision ID: 0015_entry_import_origin
Revises: 0014_fair_jobs
Create Date: 2026-12-04 15:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_entry_import_origin"
down_revision: str | None = "0014_fair_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("entries", sa.Column("import_source", sa.Text(), nullable=True))
    op.add_column("entries", sa.Column("import_id", sa.Text(), nullable=True))
    op.add_column("entries", sa.Column("import_hash", sa.LargeBinary(), nullable=True))
    op.create_check_constraint(
        "import_origin_whole",
        "entries",
        "(import_source IS NULL) = (import_id IS NULL)"
        " AND (import_id IS NULL) = (import_hash IS NULL)",
    )
    op.create_index(
        "uq_entries_user_id_import_source_import_id",
        "entries",
        ["user_id", "import_source", "import_id"],
        unique=True,
        postgresql_where=sa.text("import_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_entries_user_id_import_source_import_id", table_name="entries")
    op.drop_constraint("import_origin_whole", "entries", type_="check")
    op.drop_column("entries", "import_hash")
    op.drop_column("entries", "import_id")
    op.drop_column("entries", "import_source")

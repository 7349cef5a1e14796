"""import formats unchecked: imports.format is checked by the API against the readers it has
(diarist.imports.sources.READERS), not by a constraint that needs a revision for each new one

Revision ID: 0020_import_formats_unchecked
Revises: 0019_import_dayone_classic
Create Date: 2026-12-04 16:45:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020_import_formats_unchecked"
down_revision: str | None = "0019_import_dayone_classic"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KNOWN = "format IN ('dayone', 'dayone-classic', 'jrnl', 'jrnl-json', 'markdown')"


def upgrade() -> None:
    op.drop_constraint("format", "imports", type_="check")


def downgrade() -> None:
    op.execute(f"DELETE FROM imports WHERE NOT ({_KNOWN})")  # noqa: S608 - a constant
    op.create_check_constraint("format", "imports", _KNOWN)

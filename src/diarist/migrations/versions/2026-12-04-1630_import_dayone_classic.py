"""import dayone-classic: imports over the API take Day One Classic journals (a zip of
.doentry files) too

Revision ID: 0019_import_dayone_classic
Revises: 0018_imports
Create Date: 2026-12-04 16:30:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019_import_dayone_classic"
down_revision: str | None = "0018_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = "format IN ('dayone', 'jrnl', 'jrnl-json', 'markdown')"
_AFTER = "format IN ('dayone', 'dayone-classic', 'jrnl', 'jrnl-json', 'markdown')"


def upgrade() -> None:
    op.drop_constraint("format", "imports", type_="check")
    op.create_check_constraint("format", "imports", _AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM imports WHERE format = 'dayone-classic'")
    op.drop_constraint("format", "imports", type_="check")
    op.create_check_constraint("format", "imports", _BEFORE)

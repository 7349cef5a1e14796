"""import attachments: an import counts the files it attached to entries (Day One's photos,
videos, audio and PDFs) and those it could not

Revision ID: 0022_import_attachments
Revises: 0021_attachments
Create Date: 2026-12-04 18:15:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_import_attachments"
down_revision: str | None = "0021_attachments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for name in ("attached", "attachments_failed"):
        op.add_column("imports", sa.Column(name, sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    for name in ("attachments_failed", "attached"):
        op.drop_column("imports", name)

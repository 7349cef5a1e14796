"""imports: one row per import started over the API (its file waits under the data dir for the
job that imports it), with its progress and report; owner-only RLS like every user's table

Revision ID: 0018_imports
Revises: 0017_tag_usage_per_statement
Create Date: 2026-12-04 16:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from diarist.db.rls import disable_owner_rls, enable_owner_rls

revision: str = "0018_imports"
down_revision: str | None = "0017_tag_usage_per_statement"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), server_default="0", nullable=False)


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("status", sa.Text(), server_default="queued", nullable=False),
        _count("read"),
        _count("created"),
        _count("updated"),
        _count("unchanged"),
        _count("failed"),
        sa.Column(
            "failures",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("error_code", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.CheckConstraint(
            "format IN ('dayone', 'jrnl', 'jrnl-json', 'markdown')", name=op.f("ck_imports_format")
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_imports_status")
        ),
        sa.CheckConstraint("length(file_name) <= 255", name=op.f("ck_imports_file_name_length")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_imports_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_index("ix_imports_user_id_created_at", "imports", ["user_id", "created_at"])
    for statement in enable_owner_rls("imports"):
        op.execute(statement)


def downgrade() -> None:
    for statement in disable_owner_rls("imports"):
        op.execute(statement)
    op.drop_index("ix_imports_user_id_created_at", table_name="imports")
    op.drop_table("imports")

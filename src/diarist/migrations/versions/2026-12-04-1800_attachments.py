"""attachments: files on entries in a content-addressed store; attachment_blobs records each
stored object (one per user and SHA-256), attachments each file on an entry; owner-only RLS on
both

Revision ID: 0021_attachments
Revises: 0020_import_formats_unchecked
Create Date: 2026-12-04 18:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from diarist.db.rls import disable_owner_rls, enable_owner_rls

revision: str = "0021_attachments"
down_revision: str | None = "0020_import_formats_unchecked"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "attachment_blobs",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.LargeBinary(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("has_location", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "variants",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        _created_at(),
        sa.CheckConstraint(
            "octet_length(sha256) = 32", name=op.f("ck_attachment_blobs_sha256_length")
        ),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_attachment_blobs_size")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_attachment_blobs_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "sha256", name="pk_attachment_blobs"),
    )
    op.create_table(
        "attachments",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.LargeBinary(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("keep_location", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("source_id", sa.Text(), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        _created_at(),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('image', 'audio', 'video', 'pdf')", name=op.f("ck_attachments_kind")
        ),
        sa.CheckConstraint(
            "length(file_name) BETWEEN 1 AND 255", name=op.f("ck_attachments_file_name_length")
        ),
        sa.CheckConstraint(
            "length(source_id) <= 200", name=op.f("ck_attachments_source_id_length")
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "entry_id"],
            ["entries.user_id", "entries.id"],
            name="fk_attachments_entry",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "sha256"],
            ["attachment_blobs.user_id", "attachment_blobs.sha256"],
            name="fk_attachments_blob",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("entry_id", "sha256", name="uq_attachments_entry_id_sha256"),
    )
    op.create_index("ix_attachments_user_id_sha256", "attachments", ["user_id", "sha256"])
    for table in ("attachment_blobs", "attachments"):
        for statement in enable_owner_rls(table):
            op.execute(statement)


def downgrade() -> None:
    for table in ("attachments", "attachment_blobs"):
        for statement in disable_owner_rls(table):
            op.execute(statement)
    op.drop_index("ix_attachments_user_id_sha256", table_name="attachments")
    op.drop_table("attachments")
    op.drop_table("attachment_blobs")

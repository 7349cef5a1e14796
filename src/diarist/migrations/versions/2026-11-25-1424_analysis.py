"""analysis: processed content, entry embeddings (HNSW per model), result views, RLS

Revision ID: 0004_analysis
Revises: 0003_journal
Create Date: 2026-11-25 14:24:48.713706+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

from diarist.db.rls import disable_owner_rls, enable_owner_rls

_USER_TABLES = ("processed_content", "entry_embeddings")

# One HNSW index per embedding model, over its vectors cast to its dimension.
_HNSW_MINILM = (
    "CREATE INDEX ix_entry_embeddings_hnsw_minilm ON entry_embeddings "
    "USING hnsw ((embedding::vector(384)) vector_cosine_ops) "
    "WHERE model = 'all-MiniLM-L6-v2-int8'"
)

# Typed views of the results; security_invoker so that RLS applies to the caller.
_VIEWS = (
    """
    CREATE VIEW entry_sentiments WITH (security_invoker = true) AS
    SELECT entry_id, user_id,
           (processed_data ->> 'compound')::real AS compound,
           processed_data ->> 'label' AS label,
           confidence, created_at
    FROM processed_content WHERE task_type = 'sentiment'
    """,
    """
    CREATE VIEW entry_emotions WITH (security_invoker = true) AS
    SELECT p.entry_id, p.user_id, e.key AS emotion, e.value::real AS score, p.created_at
    FROM processed_content p, jsonb_each_text(p.processed_data -> 'scores') AS e
    WHERE p.task_type = 'emotions'
    """,
)
revision: str = "0004_analysis"
down_revision: str | None = "0003_journal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entry_embeddings",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("dimensions", sa.Integer(), nullable=False),
        sa.Column("embedding", Vector(), nullable=False),
        sa.Column("content_hash", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("dimensions > 0", name=op.f("ck_entry_embeddings_dimensions")),
        sa.ForeignKeyConstraint(
            ["user_id", "entry_id"],
            ["entries.user_id", "entries.id"],
            name="fk_entry_embeddings_entry",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "model", name="pk_entry_embeddings"),
    )
    op.create_index(
        "ix_entry_embeddings_user_id_model", "entry_embeddings", ["user_id", "model"], unique=False
    )
    op.create_table(
        "processed_content",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("task_type", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.LargeBinary(), nullable=False),
        sa.Column("processed_data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("provider_info", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.CheckConstraint(
            "task_type IN ('sentiment', 'emotions', 'keywords', 'reflection')",
            name=op.f("ck_processed_content_task_type"),
        ),
        sa.CheckConstraint(
            "confidence BETWEEN 0 AND 1", name=op.f("ck_processed_content_confidence")
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "entry_id"],
            ["entries.user_id", "entries.id"],
            name="fk_processed_content_entry",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processed_content")),
        sa.UniqueConstraint(
            "entry_id", "task_type", name="uq_processed_content_entry_id_task_type"
        ),
    )
    op.create_index(
        "ix_processed_content_expires_at",
        "processed_content",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("expires_at IS NOT NULL"),
    )
    op.create_index(
        "ix_processed_content_user_id_task_type",
        "processed_content",
        ["user_id", "task_type"],
        unique=False,
    )
    op.add_column(
        "entries",
        sa.Column(
            "analysis_requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.add_column(
        "entries", sa.Column("analysis_attempts", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("entries", sa.Column("analysis_error", sa.Text(), nullable=True))
    op.add_column("entries", sa.Column("analyzed_hash", sa.LargeBinary(), nullable=True))
    op.execute(_HNSW_MINILM)
    for view in _VIEWS:
        op.execute(view)
    for table in _USER_TABLES:
        for statement in enable_owner_rls(table):
            op.execute(statement)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS entry_emotions")
    op.execute("DROP VIEW IF EXISTS entry_sentiments")
    op.execute("DROP INDEX IF EXISTS ix_entry_embeddings_hnsw_minilm")
    for table in _USER_TABLES:
        for statement in disable_owner_rls(table):
            op.execute(statement)
    op.drop_column("entries", "analyzed_hash")
    op.drop_column("entries", "analysis_error")
    op.drop_column("entries", "analysis_attempts")
    op.drop_column("entries", "analysis_requested_at")
    op.drop_index("ix_processed_content_user_id_task_type", table_name="processed_content")
    op.drop_index(
        "ix_processed_content_expires_at",
        table_name="processed_content",
        postgresql_where=sa.text("expires_at IS NOT NULL"),
    )
    op.drop_table("processed_content")
    op.drop_index("ix_entry_embeddings_user_id_model", table_name="entry_embeddings")
    op.drop_table("entry_embeddings")

"""topics: topics, entry topics, tag assignment provenance and auto-apply, RLS

Revision ID: 0005_topics
Revises: 0004_analysis
Create Date: 2026-11-25 14:40:24.279945+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from diarist.db.rls import disable_owner_rls, enable_owner_rls

_USER_TABLES = ("topics", "entry_topics")
revision: str = "0005_topics"
down_revision: str | None = "0004_analysis"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("topic_key", sa.Text(), nullable=False),
        sa.Column(
            "aliases",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("hidden", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 100", name=op.f("ck_topics_name_length")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_topics_user", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
        sa.UniqueConstraint("user_id", "id", name="uq_topics_user_id_id"),
    )
    op.create_index("uq_topics_user_id_topic_key", "topics", ["user_id", "topic_key"], unique=True)
    op.create_table(
        "entry_topics",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("topic_id", sa.Uuid(), nullable=False),
        sa.Column("relevance", sa.Float(), nullable=False),
        sa.CheckConstraint("relevance BETWEEN 0 AND 1", name=op.f("ck_entry_topics_relevance")),
        sa.ForeignKeyConstraint(
            ["user_id", "entry_id"],
            ["entries.user_id", "entries.id"],
            name="fk_entry_topics_entry",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "topic_id"],
            ["topics.user_id", "topics.id"],
            name="fk_entry_topics_topic",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "topic_id", name="pk_entry_topics"),
    )
    op.create_index("ix_entry_topics_topic_id", "entry_topics", ["topic_id"], unique=False)
    op.add_column(
        "entry_tags",
        sa.Column("assignment_type", sa.Text(), server_default="manual", nullable=False),
    )
    op.add_column(
        "entry_tags",
        sa.Column(
            "assignment_context",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column(
        "tags",
        sa.Column("auto_apply", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_entry_tags_assignment_type"),
        "entry_tags",
        "assignment_type IN ('manual', 'ai_suggested', 'auto_rule')",
    )
    for table in _USER_TABLES:
        for statement in enable_owner_rls(table):
            op.execute(statement)


def downgrade() -> None:
    for table in _USER_TABLES:
        for statement in disable_owner_rls(table):
            op.execute(statement)
    op.drop_constraint(op.f("ck_entry_tags_assignment_type"), "entry_tags", type_="check")
    op.drop_column("tags", "auto_apply")
    op.drop_column("entry_tags", "assignment_context")
    op.drop_column("entry_tags", "assignment_type")
    op.drop_index("ix_entry_topics_topic_id", table_name="entry_topics")
    op.drop_table("entry_topics")
    op.drop_index("uq_topics_user_id_topic_key", table_name="topics")
    op.drop_table("topics")

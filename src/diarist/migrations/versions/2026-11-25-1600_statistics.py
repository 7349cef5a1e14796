"""statistics: per-day statistics, the dirty-day log and its triggers, stored insights, RLS

Revision ID: 0006_statistics
Revises: 0005_topics
Create Date: 2026-11-25 16:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from diarist.db.rls import disable_owner_rls, enable_owner_rls

_USER_TABLES = ("stats_dirty_days", "stats_days", "stats_day_subjects", "insights")

# Statement-level triggers log every (user, local day) a write touches. Rows of a user who is
# being deleted are skipped (the cascade would otherwise log days of a user that is gone).
# Plain inserts into an append-only log: writers never conflict or wait.
_MARK_ENTRIES = """
CREATE FUNCTION stats_mark_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO stats_dirty_days (user_id, day)
        SELECT DISTINCT n.user_id, ((n.entry_date AT TIME ZONE n.timezone)::date) FROM new_rows n
        WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = n.user_id);
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO stats_dirty_days (user_id, day)
        SELECT DISTINCT o.user_id, ((o.entry_date AT TIME ZONE o.timezone)::date) FROM old_rows o
        WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id);
    ELSE
        -- Only changes that statistics read (not analysis bookkeeping, not the text itself).
        INSERT INTO stats_dirty_days (user_id, day)
        SELECT DISTINCT c.user_id, c.day FROM (
            SELECT o.user_id, ((o.entry_date AT TIME ZONE o.timezone)::date) AS day,
                   n.user_id AS new_user,
                   ((n.entry_date AT TIME ZONE n.timezone)::date) AS new_day
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.entry_date, o.timezone, o.mood_rating, o.word_count, o.deleted_at IS NULL)
                  IS DISTINCT FROM
                  (n.entry_date, n.timezone, n.mood_rating, n.word_count, n.deleted_at IS NULL)
        ) AS changed, LATERAL (VALUES (changed.user_id, changed.day),
                                      (changed.new_user, changed.new_day)) AS c(user_id, day)
        WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id);
    END IF;
    RETURN NULL;
END $$
"""

# entry_tags, entry_topics and processed_content: the days of the entries they belong to.
_MARK_LINKED = """
CREATE FUNCTION stats_mark_linked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO stats_dirty_days (user_id, day)
        SELECT DISTINCT e.user_id, ((e.entry_date AT TIME ZONE e.timezone)::date)
        FROM old_rows r JOIN entries e ON e.id = r.entry_id AND e.user_id = r.user_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO stats_dirty_days (user_id, day)
        SELECT DISTINCT e.user_id, ((e.entry_date AT TIME ZONE e.timezone)::date)
        FROM new_rows r JOIN entries e ON e.id = r.entry_id AND e.user_id = r.user_id;
    END IF;
    RETURN NULL;
END $$
"""

_TRIGGERS = (
    ("entries", "stats_mark_entries"),
    ("entry_tags", "stats_mark_linked"),
    ("entry_topics", "stats_mark_linked"),
    ("processed_content", "stats_mark_linked"),
)
_TRANSITIONS = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}

revision: str = "0006_statistics"
down_revision: str | None = "0005_topics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _trigger_name(table: str, event: str) -> str:
    return f"stats_mark_{table}_{event.lower()}"


def upgrade() -> None:
    op.create_table(
        "stats_dirty_days",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "marked_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_stats_dirty_days_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_dirty_days")),
    )
    op.create_index(
        "ix_stats_dirty_days_user_id_day", "stats_dirty_days", ["user_id", "day"], unique=False
    )
    op.create_table(
        "stats_days",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("words", sa.BigInteger(), nullable=False),
        sa.Column("mood_n", sa.Integer(), nullable=False),
        sa.Column("mood_sum", sa.Float(), nullable=False),
        sa.Column("mood_sumsq", sa.Float(), nullable=False),
        sa.Column("sentiment_n", sa.Integer(), nullable=False),
        sa.Column("sentiment_sum", sa.Float(), nullable=False),
        sa.Column("sentiment_sumsq", sa.Float(), nullable=False),
        sa.Column("hours", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column("emotions_n", sa.Integer(), nullable=False),
        sa.Column("emotion_sums", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("dominant_counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("entries > 0", name=op.f("ck_stats_days_entries")),
        sa.CheckConstraint("cardinality(hours) = 24", name=op.f("ck_stats_days_hours")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_stats_days_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "day", name="pk_stats_days"),
    )
    op.create_table(
        "stats_day_subjects",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("mood_n", sa.Integer(), nullable=False),
        sa.Column("mood_sum", sa.Float(), nullable=False),
        sa.Column("mood_sumsq", sa.Float(), nullable=False),
        sa.Column("sentiment_n", sa.Integer(), nullable=False),
        sa.Column("sentiment_sum", sa.Float(), nullable=False),
        sa.Column("sentiment_sumsq", sa.Float(), nullable=False),
        sa.CheckConstraint("entries > 0", name=op.f("ck_stats_day_subjects_entries")),
        sa.CheckConstraint("kind IN ('tag', 'topic')", name=op.f("ck_stats_day_subjects_kind")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_stats_day_subjects_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "day", "kind", "subject_id", name="pk_stats_day_subjects"
        ),
    )
    op.create_index(
        "ix_stats_day_subjects_user_id_kind_subject_id",
        "stats_day_subjects",
        ["user_id", "kind", "subject_id"],
        unique=False,
    )
    op.create_table(
        "insights",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("insight_type", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("insight_data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("confidence_level", sa.Float(), nullable=False),
        sa.Column(
            "generated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.CheckConstraint(
            "confidence_level BETWEEN 0 AND 1", name=op.f("ck_insights_confidence_level")
        ),
        sa.CheckConstraint(
            "insight_type IN ('weekday_effect', 'tag_effect', 'topic_effect', "
            "'streak_milestone', 'trend')",
            name=op.f("ck_insights_insight_type"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(insight_data) = 'object'", name=op.f("ck_insights_insight_data_object")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_insights_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insights")),
        sa.UniqueConstraint("user_id", "fingerprint", name="uq_insights_user_id_fingerprint"),
    )
    for table in _USER_TABLES:
        for statement in enable_owner_rls(table):
            op.execute(statement)
    op.execute(_MARK_ENTRIES)
    op.execute(_MARK_LINKED)
    for table, function in _TRIGGERS:
        for event, transition in _TRANSITIONS.items():
            op.execute(
                f"CREATE TRIGGER {_trigger_name(table, event)} AFTER {event} ON {table} "
                f"{transition} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    # The days of entries written before this revision: the next drain computes them.
    op.execute(
        "INSERT INTO stats_dirty_days (user_id, day) "
        "SELECT DISTINCT e.user_id, ((e.entry_date AT TIME ZONE e.timezone)::date) FROM entries e"
    )


def downgrade() -> None:
    for table, _function in _TRIGGERS:
        for event in _TRANSITIONS:
            op.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table, event)} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS stats_mark_linked()")
    op.execute("DROP FUNCTION IF EXISTS stats_mark_entries()")
    for table in _USER_TABLES:
        for statement in disable_owner_rls(table):
            op.execute(statement)
    op.drop_table("insights")
    op.drop_index("ix_stats_day_subjects_user_id_kind_subject_id", table_name="stats_day_subjects")
    op.drop_table("stats_day_subjects")
    op.drop_table("stats_days")
    op.drop_index("ix_stats_dirty_days_user_id_day", table_name="stats_dirty_days")
    op.drop_table("stats_dirty_days")

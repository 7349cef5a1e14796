"""journal: entries, revisions, tags, tag relationships, entry tags, vocabulary, RLS

Revision ID: 0003_journal
Revises: 0002_accounts
Create Date: 2026-11-25 14:05:27.089713+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from diarist.db.rls import disable_owner_rls, enable_owner_rls

_USER_TABLES = (
    "entries",
    "entry_revisions",
    "tags",
    "tag_relationships",
    "entry_tags",
    "user_words",
)

# Stemming languages that get an accent-insensitive configuration `diarist_<language>`.
_LANGUAGES = (
    "danish", "dutch", "finnish", "french", "german", "hungarian", "italian", "norwegian",
    "portuguese", "romanian", "russian", "spanish", "swedish", "turkish",
)  # fmt: skip


def _text_search_configs() -> list[str]:
    statements = [
        "CREATE TEXT SEARCH CONFIGURATION diarist_simple (COPY = simple)",
        "ALTER TEXT SEARCH CONFIGURATION diarist_simple "
        "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple",
    ]
    for language in _LANGUAGES:
        statements += [
            f"CREATE TEXT SEARCH CONFIGURATION diarist_{language} (COPY = {language})",
            f"ALTER TEXT SEARCH CONFIGURATION diarist_{language} "
            f"ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {language}_stem",
        ]
    return statements


# The distinct plain words of a text (3-40 characters, not starting with a digit).
_WORDS_FUNCTION = """
CREATE FUNCTION journal_words(p_content text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(array_agg(w ORDER BY w), '{}')
    FROM unnest(tsvector_to_array(to_tsvector('simple', p_content))) AS w
    WHERE length(w) BETWEEN 3 AND 40 AND w !~ '^[0-9]'
$$
"""

# Keep user_words current: +1 per entry for each word it gains, -1 for each it loses. Words are
# handled in sorted order so that concurrent writers lock rows in the same order.
_VOCABULARY_TRIGGER = """
CREATE FUNCTION entries_vocabulary() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    old_words text[] := '{}';
    new_words text[] := '{}';
    removed text[];
    added text[];
    owner uuid;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.content IS NOT DISTINCT FROM NEW.content THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_words := journal_words(OLD.content);
        owner := OLD.user_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        new_words := journal_words(NEW.content);
        owner := NEW.user_id;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = owner) THEN
        RETURN NULL;  -- the user is being deleted; their words go by cascade
    END IF;
    removed := ARRAY(SELECT unnest(old_words) EXCEPT SELECT unnest(new_words));
    added := ARRAY(SELECT unnest(new_words) EXCEPT SELECT unnest(old_words));
    -- Lock every existing row this change touches, in one sorted order (no deadlocks), then
    -- count down, drop what reached zero, and count up.
    PERFORM 1 FROM user_words
    WHERE user_id = owner AND word = ANY (removed || added)
    ORDER BY word FOR UPDATE;
    UPDATE user_words SET entry_count = entry_count - 1
    WHERE user_id = owner AND word = ANY (removed);
    DELETE FROM user_words WHERE user_id = owner AND word = ANY (removed) AND entry_count = 0;
    INSERT INTO user_words (user_id, word, entry_count)
    SELECT owner, w, 1
    FROM unnest(added) AS w
    ORDER BY w
    ON CONFLICT (user_id, word) DO UPDATE SET entry_count = user_words.entry_count + 1;
    RETURN NULL;
END
$$
"""

# usage_count counts the live (not trashed) entries carrying a tag; every change is a single
# atomic UPDATE, so concurrent writers never lose a count. While a user is being deleted (their
# row is gone, everything else follows by cascade) there is nothing to count.
_USAGE_FUNCTIONS = """
CREATE FUNCTION entry_tags_usage() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = coalesce(NEW.user_id, OLD.user_id)) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        UPDATE tags SET usage_count = usage_count + 1
        WHERE id = NEW.tag_id
          AND EXISTS (SELECT 1 FROM entries WHERE id = NEW.entry_id AND deleted_at IS NULL);
        RETURN NULL;
    END IF;
    -- A link removed with its entry was already uncounted by entries_usage().
    UPDATE tags SET usage_count = usage_count - 1
    WHERE id = OLD.tag_id
      AND EXISTS (SELECT 1 FROM entries WHERE id = OLD.entry_id AND deleted_at IS NULL);
    RETURN NULL;
END
$$;

CREATE FUNCTION entries_usage() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    delta integer;
    target uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.deleted_at IS NOT NULL THEN
            RETURN OLD;
        END IF;
        delta := -1;
        target := OLD.id;
    ELSIF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
        delta := -1;
        target := NEW.id;
    ELSIF OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN
        delta := 1;
        target := NEW.id;
    ELSE
        RETURN NEW;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id) THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    UPDATE tags t SET usage_count = t.usage_count + delta
    FROM (SELECT tag_id FROM entry_tags WHERE entry_id = target ORDER BY tag_id) AS linked
    WHERE t.id = linked.tag_id;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$
"""

# Under forced RLS `@@` cannot be an index condition ahead of the policy, so a user with many
# entries would have every row matched one by one. This narrow function runs as the owner,
# applies the caller's user filter itself (so the GIN and user_id indexes combine) and returns
# only ids and scores; the caller joins back to `entries` under RLS for everything else.
_SEARCH_FUNCTION = """
CREATE FUNCTION search_entry_ids(p_query tsquery, p_deleted boolean)
RETURNS TABLE (entry_id uuid, score real)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
ROWS 200
AS $$
    SELECT e.id, ts_rank_cd(e.search_vector, p_query, 32)
    FROM entries e
    WHERE e.user_id = diarist_current_user_id()
      AND e.search_vector @@ p_query
      AND (e.deleted_at IS NOT NULL) = p_deleted
$$
"""

_TRIGGERS = (
    "CREATE TRIGGER entries_vocabulary AFTER INSERT OR DELETE OR UPDATE OF content ON entries "
    "FOR EACH ROW EXECUTE FUNCTION entries_vocabulary()",
    "CREATE TRIGGER entry_tags_usage AFTER INSERT OR DELETE ON entry_tags "
    "FOR EACH ROW EXECUTE FUNCTION entry_tags_usage()",
    "CREATE TRIGGER entries_usage BEFORE DELETE OR UPDATE OF deleted_at ON entries "
    "FOR EACH ROW EXECUTE FUNCTION entries_usage()",
)
revision: str = "0003_journal"
down_revision: str | None = "0002_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    for statement in _text_search_configs():
        op.execute(statement)
    op.create_table(
        "entries",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("raw_data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.LargeBinary(), nullable=False),
        sa.Column("entry_type", sa.Text(), server_default="text", nullable=False),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("mood_rating", sa.SmallInteger(), nullable=True),
        sa.Column(
            "entry_date",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("timezone", sa.Text(), server_default="UTC", nullable=False),
        sa.Column("visibility", sa.Text(), server_default="private", nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("starred", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("pinned", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("processing_status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("word_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "search_config",
            postgresql.REGCONFIG(),
            server_default=sa.text("'english'::regconfig"),
            nullable=False,
        ),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector(search_config, coalesce(title, '')), 'A') || "
                "setweight(to_tsvector(search_config, content), 'B')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.Column("idempotency_hash", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.CheckConstraint(
            "entry_type IN ('text', 'voice', 'photo', 'mixed')", name=op.f("ck_entries_entry_type")
        ),
        sa.CheckConstraint(
            "format IN ('markdown', 'editorjs', 'text', 'json')", name=op.f("ck_entries_format")
        ),
        sa.CheckConstraint(
            "jsonb_typeof(metadata) = 'object'", name=op.f("ck_entries_metadata_object")
        ),
        sa.CheckConstraint(
            "jsonb_typeof(raw_data) = 'object'", name=op.f("ck_entries_raw_data_object")
        ),
        sa.CheckConstraint(
            "processing_status IN ('pending', 'processing', 'completed', 'failed')",
            name=op.f("ck_entries_processing_status"),
        ),
        sa.CheckConstraint(
            "published_at IS NULL OR visibility <> 'private'",
            name=op.f("ck_entries_published_shared"),
        ),
        sa.CheckConstraint(
            "visibility IN ('private', 'shared', 'public')", name=op.f("ck_entries_visibility")
        ),
        sa.CheckConstraint("length(title) <= 500", name=op.f("ck_entries_title_length")),
        sa.CheckConstraint("mood_rating BETWEEN 1 AND 10", name=op.f("ck_entries_mood_rating")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_entries_version")),
        sa.CheckConstraint("word_count >= 0", name=op.f("ck_entries_word_count")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_entries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entries")),
        sa.UniqueConstraint("user_id", "id", name="uq_entries_user_id_id"),
    )
    op.create_index(
        "ix_entries_search_vector",
        "entries",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_entries_timeline_created_at",
        "entries",
        ["user_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_entries_timeline_entry_date",
        "entries",
        ["user_id", sa.literal_column("entry_date DESC"), sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_entries_trash",
        "entries",
        ["user_id", "deleted_at"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NOT NULL"),
    )
    op.create_index(
        "uq_entries_idempotency_key",
        "entries",
        ["user_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_table(
        "tags",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "name_key", sa.Text(), sa.Computed("lower(name)", persisted=True), nullable=False
        ),
        sa.Column("color", sa.Text(), nullable=True),
        sa.Column("icon", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("usage_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.CheckConstraint("color ~ '^#[0-9a-f]{6}$'", name=op.f("ck_tags_color")),
        sa.CheckConstraint("length(description) <= 500", name=op.f("ck_tags_description_length")),
        sa.CheckConstraint("length(icon) <= 32", name=op.f("ck_tags_icon_length")),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 64", name=op.f("ck_tags_name_length")),
        sa.CheckConstraint("parent_id <> id", name=op.f("ck_tags_not_own_parent")),
        sa.CheckConstraint("usage_count >= 0", name=op.f("ck_tags_usage_count")),
        sa.ForeignKeyConstraint(
            ["user_id", "parent_id"],
            ["tags.user_id", "tags.id"],
            name="fk_tags_parent",
            ondelete="SET NULL (parent_id)",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_tags_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("user_id", "id", name="uq_tags_user_id_id"),
    )
    op.create_index("ix_tags_parent_id", "tags", ["parent_id"], unique=False)
    op.create_index("uq_tags_user_id_name_key", "tags", ["user_id", "name_key"], unique=True)
    op.create_table(
        "user_words",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("word", sa.Text(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.CheckConstraint("entry_count >= 0", name=op.f("ck_user_words_entry_count")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_words_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "word", name="pk_user_words"),
    )
    op.create_table(
        "entry_revisions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("raw_data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id", "entry_id"],
            ["entries.user_id", "entries.id"],
            name="fk_entry_revisions_entry",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_entry_revisions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_revisions")),
        sa.UniqueConstraint("entry_id", "version", name="uq_entry_revisions_entry_id_version"),
    )
    op.create_table(
        "entry_tags",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("tag_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id", "entry_id"],
            ["entries.user_id", "entries.id"],
            name="fk_entry_tags_entry",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "tag_id"],
            ["tags.user_id", "tags.id"],
            name="fk_entry_tags_tag",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_entry_tags_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("entry_id", "tag_id", name="pk_entry_tags"),
    )
    op.create_index(
        "ix_entry_tags_tag_id_entry_id", "entry_tags", ["tag_id", "entry_id"], unique=False
    )
    op.create_table(
        "tag_relationships",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("tag_id", sa.Uuid(), nullable=False),
        sa.Column("related_tag_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("strength", sa.Numeric(precision=3, scale=2), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('synonym', 'related', 'excludes')", name=op.f("ck_tag_relationships_kind")
        ),
        sa.CheckConstraint(
            "strength >= 0 AND strength <= 1", name=op.f("ck_tag_relationships_strength")
        ),
        sa.CheckConstraint(
            "tag_id <> related_tag_id", name=op.f("ck_tag_relationships_no_self_link")
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "related_tag_id"],
            ["tags.user_id", "tags.id"],
            name="fk_tag_relationships_related",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "tag_id"],
            ["tags.user_id", "tags.id"],
            name="fk_tag_relationships_tag",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_tag_relationships_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_relationships")),
        sa.UniqueConstraint("tag_id", "related_tag_id", "kind", name="uq_tag_relationships_link"),
    )
    op.create_index(
        "ix_tag_relationships_related_tag_id", "tag_relationships", ["related_tag_id"], unique=False
    )
    op.execute(_WORDS_FUNCTION)
    op.execute(_VOCABULARY_TRIGGER)
    op.execute(_USAGE_FUNCTIONS)
    for statement in _TRIGGERS:
        op.execute(statement)
    op.execute(_SEARCH_FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION search_entry_ids(tsquery, boolean) FROM PUBLIC")
    for table in _USER_TABLES:
        for statement in enable_owner_rls(table):
            op.execute(statement)


def downgrade() -> None:
    for table in _USER_TABLES:
        for statement in disable_owner_rls(table):
            op.execute(statement)
    for trigger, table in (
        ("entries_vocabulary", "entries"),
        ("entry_tags_usage", "entry_tags"),
        ("entries_usage", "entries"),
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    op.drop_index("ix_tag_relationships_related_tag_id", table_name="tag_relationships")
    op.drop_table("tag_relationships")
    op.drop_index("ix_entry_tags_tag_id_entry_id", table_name="entry_tags")
    op.drop_table("entry_tags")
    op.drop_table("entry_revisions")
    op.drop_table("user_words")
    op.drop_index("uq_tags_user_id_name_key", table_name="tags")
    op.drop_index("ix_tags_parent_id", table_name="tags")
    op.drop_table("tags")
    op.drop_index(
        "uq_entries_idempotency_key",
        table_name="entries",
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.drop_index(
        "ix_entries_trash", table_name="entries", postgresql_where=sa.text("deleted_at IS NOT NULL")
    )
    op.drop_index(
        "ix_entries_timeline_entry_date",
        table_name="entries",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "ix_entries_timeline_created_at",
        table_name="entries",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index("ix_entries_search_vector", table_name="entries", postgresql_using="gin")
    op.drop_table("entries")
    for function in (
        "search_entry_ids(tsquery, boolean)",
        "entries_vocabulary()",
        "entry_tags_usage()",
        "entries_usage()",
        "journal_words(text)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    for language in ("simple", *_LANGUAGES):
        op.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS diarist_{language}")

"""The whole revision chain is reversible, and the models agree with it; revisions that change
stored data do it right."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from psycopg.types.json import Jsonb
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from diarist.db import migrate
from diarist.db.migrate import include_name
from diarist.db.provision import DatabaseUrls, libpq_url
from diarist.journal.content import derive
from diarist.models import Base
from tests.conftest import make_settings
from tests.factories.journal import user_with_entries


def _tables(urls: DatabaseUrls) -> set[str]:
    with psycopg.connect(libpq_url(urls.owner)) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in rows}


def _extensions(urls: DatabaseUrls) -> set[str]:
    with psycopg.connect(libpq_url(urls.owner)) as conn:
        return {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}


def test_upgrade_downgrade_upgrade_whole_chain(fresh_db: DatabaseUrls) -> None:
    heads = migrate.head_revisions()
    assert migrate.current_revisions(fresh_db.owner) == heads
    migrated = _tables(fresh_db)
    assert "procrastinate_jobs" in migrated

    migrate.downgrade(fresh_db.owner, "base")
    assert migrate.current_revisions(fresh_db.owner) == set()
    assert _tables(fresh_db) == {"alembic_version"}
    # Extensions are created by the superuser and never dropped by migrations.
    assert {"vector", "pg_trgm"} <= _extensions(fresh_db)

    migrate.upgrade(fresh_db.owner)
    assert migrate.current_revisions(fresh_db.owner) == heads
    assert _tables(fresh_db) == migrated


def test_each_revision_steps_down_and_up(fresh_db: DatabaseUrls) -> None:
    revisions = [rev for rev, _down, _msg in migrate.history()]
    for _ in revisions:
        migrate.downgrade(fresh_db.owner, "-1")
    assert migrate.current_revisions(fresh_db.owner) == set()
    for _ in revisions:
        migrate.upgrade(fresh_db.owner, "+1")
    assert migrate.current_revisions(fresh_db.owner) == migrate.head_revisions()


def test_models_and_migrations_agree(test_db: DatabaseUrls) -> None:
    engine = create_engine(test_db.owner, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_name": include_name, "compare_type": True}
            )
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_history_lists_packaged_revisions() -> None:
    history = migrate.history()
    assert history[-1][1] is None  # the oldest revision starts the chain
    assert {rev for rev, _d, _m in history} >= migrate.head_revisions()


def test_the_revision_derives_markdown_entries_again(
    fresh_db: DatabaseUrls, tmp_path: Path
) -> None:
    """Markdown and EditorJS entries stored before line breaks kept words apart get their text
    derived again and wait for analysis of it; an entry whose text comes out the same is left
    alone."""
    settings = make_settings(fresh_db, tmp_path)
    user_id, _ = asyncio.run(user_with_entries(fresh_db, settings, []))
    migrate.downgrade(fresh_db.owner, "0034_vault_login_address", settings)
    block = {"id": "b", "type": "paragraph", "data": {"text": "rain<br>soup"}}
    # title: (raw_data, the content stored for it before)
    stored: dict[str, tuple[dict[str, Any], str]] = {
        "glued": ({"format": "markdown", "text": "rain\nsoup"}, "rainsoup"),
        "plain": ({"format": "markdown", "text": "one line"}, "one line"),
        "html": ({"blocks": [block]}, "rainsoup"),
    }
    with psycopg.connect(libpq_url(fresh_db.owner), autocommit=True) as conn:
        for key, (raw_data, content) in stored.items():
            conn.execute(
                "INSERT INTO entries (user_id, title, raw_data, format, content, content_hash,"
                " word_count, processing_status) VALUES (%s, %s, %s, %s, %s, '\\x00', 1,"
                " 'completed')",
                (user_id, key, Jsonb(raw_data), derive(raw_data).format, content),
            )
    migrate.upgrade(fresh_db.owner, "head", settings)
    with psycopg.connect(libpq_url(fresh_db.owner), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT title, content, word_count, processing_status,"
            " search_vector @@ to_tsquery('english', 'soup') FROM entries ORDER BY title"
        ).fetchall()
        ids: dict[str, str] = dict(conn.execute("SELECT title, id::text FROM entries").fetchall())
        jobs = conn.execute(
            "SELECT args FROM procrastinate_jobs WHERE task_name = 'analysis:analyze_batch'"
        ).fetchall()
    assert rows == [
        ("glued", "rain\nsoup", 2, "pending", True),
        ("html", "rain\nsoup", 2, "pending", True),
        ("plain", "one line", 1, "completed", False),
    ]
    assert len(jobs) == 1, "their analysis is queued as one batch"
    assert jobs[0][0]["user_id"] == str(user_id)
    assert sorted(jobs[0][0]["entry_ids"]) == sorted([ids["glued"], ids["html"]])

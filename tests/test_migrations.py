"""The whole revision chain is reversible, and the models agree with it."""

from __future__ import annotations

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from diarist.db import migrate
from diarist.db.migrate import include_name
from diarist.db.provision import DatabaseUrls, libpq_url
from diarist.models import Base


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

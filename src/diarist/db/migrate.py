"""Alembic, driven from code: the revisions ship inside the package (`diarist.migrations`)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Literal

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from diarist.config import Settings, get_settings

# Objects that migrations create but no ORM model describes (procrastinate's queue schema).
# The audit trail's partitions (`audit_log_p202612`, `audit_log_default`) are made by its job.
_UNMODELLED_PREFIXES = ("procrastinate_", "audit_log_")
# Per-model HNSW expression indexes over `embedding::vector(<dim>)`, made by migrations.
_UNMODELLED_INDEX_PREFIXES = ("ix_entry_embeddings_hnsw_",)


def include_name(
    name: str | None,
    type_: str,
    _parent: MutableMapping[
        Literal["schema_name", "table_name", "schema_qualified_table_name"], str | None
    ],
) -> bool:
    if type_ == "table" and name is not None:
        return not name.startswith(_UNMODELLED_PREFIXES)
    if type_ == "index" and name is not None:
        return not name.startswith(_UNMODELLED_INDEX_PREFIXES)
    return True


FILE_TEMPLATE = "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s"


def alembic_config(url: URL | None = None, settings: Settings | None = None) -> Config:
    """An Alembic config pointing at the packaged revisions; `url` is the owner role's, the
    settings those of the server (a revision that seals data needs its keys; unset: the
    process' settings)."""
    config = Config()
    config.set_main_option("script_location", "diarist:migrations")
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option("timezone", "UTC")
    if url is not None:
        config.attributes["url"] = url
    config.attributes["settings"] = settings
    return config


def upgrade(url: URL, revision: str = "head", settings: Settings | None = None) -> None:
    command.upgrade(alembic_config(url, settings), revision)


def downgrade(url: URL, revision: str, settings: Settings | None = None) -> None:
    command.downgrade(alembic_config(url, settings), revision)


def migration_settings() -> Settings:
    """The settings of the server being migrated, from inside a revision."""
    given = context.config.attributes.get("settings")
    return given if isinstance(given, Settings) else get_settings()


def head_revisions() -> set[str]:
    """The head revision(s) of the packaged chain."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(url: URL) -> set[str]:
    """The revision(s) the database is at (empty before the first upgrade)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def history() -> list[tuple[str, str | None, str]]:
    """(revision, down revision, message) from head to base."""
    script = ScriptDirectory.from_config(alembic_config())
    return [
        (
            rev.revision,
            rev.down_revision if isinstance(rev.down_revision, str) else None,
            rev.doc or "",
        )
        for rev in script.walk_revisions()
    ]

"""foundation: extensions and the procrastinate job queue

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-25 13:30:00
"""

from collections.abc import Sequence

from alembic import op
from procrastinate.schema import SchemaManager

revision: str = "0001_foundation"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The superuser creates them at provisioning (pgvector is untrusted); here ensured, never dropped.
_EXTENSIONS = ("vector", "pg_trgm")

_DROP_PROCRASTINATE = """
DO $$
DECLARE obj record;
BEGIN
    FOR obj IN SELECT tablename FROM pg_tables
               WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%'
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', obj.tablename);
    END LOOP;
    FOR obj IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
               JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
    LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', obj.signature);
    END LOOP;
    FOR obj IN SELECT t.typname FROM pg_type t
               JOIN pg_namespace n ON n.oid = t.typnamespace
               WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%'
                 AND t.typtype IN ('e', 'c')
    LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', obj.typname);
    END LOOP;
END $$;
"""


def _execute_script(script: str) -> None:
    # Raw driver call: the script holds `::` casts and `%` that a bound statement would misread.
    driver_connection = op.get_bind().connection.driver_connection
    assert driver_connection is not None
    driver_connection.execute(script)


def upgrade() -> None:
    for extension in _EXTENSIONS:
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    # procrastinate is pinned to an exact version in pyproject.toml: its schema is part of ours.
    _execute_script(SchemaManager.get_schema())


def downgrade() -> None:
    _execute_script(_DROP_PROCRASTINATE)

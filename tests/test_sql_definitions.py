"""The files under diarist/db/sql are what the migrations made: run on a database migrated to
head they change no function, trigger or policy, and together they define every one of them."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from diarist.db.provision import DatabaseUrls
from diarist.db.sql import read_sql, sql_files

# (kind, key, definition, touched): every function, trigger and policy our migrations own (not
# extensions', not procrastinate's), and the RLS switches of the tables. `touched` is true
# for rows written by the current transaction (xmin), i.e. (re)defined by what it ran.
_CATALOG = text(
    r"""
    SELECT 'function', p.oid::regprocedure::text,
           pg_get_functiondef(p.oid) || E'\nacl: ' || coalesce(p.proacl::text, 'default'),
           p.xmin = pg_current_xact_id()::xid
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND p.proname NOT LIKE 'procrastinate\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                        AND d.deptype = 'e')
    UNION ALL
    SELECT 'trigger', t.tgname || ' on ' || c.relname,
           pg_get_triggerdef(t.oid) || E'\nenabled: ' || t.tgenabled::text,
           t.xmin = pg_current_xact_id()::xid
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND NOT t.tgisinternal AND c.relname NOT LIKE 'procrastinate\_%'
    UNION ALL
    SELECT 'policy', p.policyname || ' on ' || p.tablename,
           concat_ws(E'\n', 'cmd: ' || p.cmd, 'roles: ' || p.roles::text,
                     'permissive: ' || p.permissive, 'using: ' || p.qual,
                     'with check: ' || p.with_check),
           pol.xmin = pg_current_xact_id()::xid
    FROM pg_policies p
    JOIN pg_policy pol ON pol.polname = p.policyname
     AND pol.polrelid = format('%I.%I', p.schemaname, p.tablename)::regclass
    WHERE p.schemaname = 'public'
    UNION ALL
    SELECT 'rls', c.relname,
           'enabled: ' || c.relrowsecurity || ', forced: ' || c.relforcerowsecurity,
           false
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
      AND c.relname NOT LIKE 'procrastinate\_%'
    """
)
_OBJECT_KINDS = ("function", "trigger", "policy")


def _snapshot(conn: Connection) -> dict[str, str]:
    return {f"{kind} {key}": definition for kind, key, definition, _t in conn.execute(_CATALOG)}


def _touched(conn: Connection) -> set[str]:
    return {f"{kind} {key}" for kind, key, _d, touched in conn.execute(_CATALOG) if touched}


@contextmanager
def _owner_transaction(urls: DatabaseUrls) -> Iterator[Connection]:
    """A connection as the owner role (it owns the objects), rolled back at the end."""
    engine = create_engine(urls.owner, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            try:
                yield conn
            finally:
                conn.rollback()
    finally:
        engine.dispose()


def _run(conn: Connection, path: str) -> None:
    # As a revision runs it: op.execute(read_sql(path)) is a text() statement.
    conn.execute(text(read_sql(path)))


def _differences(before: dict[str, str], after: dict[str, str]) -> str:
    lines: list[str] = []
    for key in sorted(before.keys() | after.keys()):
        if before.get(key) != after.get(key):
            lines += difflib.unified_diff(
                (before.get(key) or "(absent)\n").splitlines(keepends=True),
                (after.get(key) or "(absent)\n").splitlines(keepends=True),
                fromfile=f"{key} (migrations)",
                tofile=f"{key} (db/sql files)",
            )
    return "".join(lines)


def test_files_change_nothing_on_a_migrated_database(fresh_db: DatabaseUrls) -> None:
    with _owner_transaction(fresh_db) as conn:
        before = _snapshot(conn)
        for path in sql_files():
            _run(conn, path)
        after = _snapshot(conn)
    assert after == before, "db/sql differs from the migrations:\n" + _differences(before, after)


def test_files_define_every_function_trigger_and_policy(fresh_db: DatabaseUrls) -> None:
    with _owner_transaction(fresh_db) as conn:
        live = {key for key in _snapshot(conn) if key.startswith(_OBJECT_KINDS)}
    defined_by: dict[str, str] = {}
    for path in sql_files():
        with _owner_transaction(fresh_db) as conn:
            _run(conn, path)
            objects = _touched(conn)
        assert objects, f"{path} defines no function, trigger or policy"
        assert objects <= live, f"{path} defines objects the migrations do not make"
        for key in objects:
            assert key not in defined_by, f"{key} is in both {defined_by.get(key)} and {path}"
            defined_by[key] = path
    missing = sorted(live - defined_by.keys())
    assert not missing, f"no file under db/sql defines {missing}"

"""What the cluster's superuser sets up once: roles, the database, extensions, default grants.

The same statements are what a DBA runs for an external PostgreSQL (see docs/deployment.md):

- the owner role owns the database and its tables and runs migrations;
- the application role serves every request; it owns nothing and does not bypass RLS;
- the system role has BYPASSRLS and is used only by cross-user maintenance, never by a request.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from diarist.config import DatabaseSettings

# pgvector is not a trusted extension: only a superuser can create it, so we do it here and
# migrations merely `CREATE EXTENSION IF NOT EXISTS` (a no-op once present) and never drop them.
EXTENSIONS = ("vector", "pg_trgm")


@dataclass(frozen=True)
class DatabaseUrls:
    """SQLAlchemy URLs (psycopg driver) for the three roles."""

    app: URL
    owner: URL
    system: URL


def libpq_url(url: URL) -> str:
    """The URL as libpq/psycopg understands it (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _ensure_role(cur: psycopg.Cursor[object], name: str, *, bypass_rls: bool) -> None:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
    verb = "ALTER" if cur.fetchone() else "CREATE"
    attrs = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE " + (
        "BYPASSRLS" if bypass_rls else "NOBYPASSRLS"
    )
    cur.execute(sql.SQL("{} ROLE {} " + attrs).format(sql.SQL(verb), sql.Identifier(name)))


def provision(superuser: URL, settings: DatabaseSettings, database: str | None = None) -> None:
    """Create (or bring up to date) roles, database, extensions and grants. Idempotent."""
    database = database or settings.name
    owner, app, system = settings.owner_role, settings.app_role, settings.system_role
    with psycopg.connect(libpq_url(superuser.set(database="postgres")), autocommit=True) as conn:
        cur = conn.cursor()
        # The owner bypasses RLS: it owns the SECURITY DEFINER functions that must look across
        # users before one is known (login by email, bearer token lookup). It serves no request.
        _ensure_role(cur, owner, bypass_rls=True)
        _ensure_role(cur, app, bypass_rls=False)
        _ensure_role(cur, system, bypass_rls=True)
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        if cur.fetchone() is None:
            cur.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(owner)
                )
            )
    with psycopg.connect(libpq_url(superuser.set(database=database)), autocommit=True) as conn:
        cur = conn.cursor()
        for extension in EXTENSIONS:
            cur.execute(
                sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension))
            )
        ident = {
            "db": sql.Identifier(database),
            "owner": sql.Identifier(owner),
            "app": sql.Identifier(app),
            "system": sql.Identifier(system),
        }
        for statement in (
            "REVOKE ALL ON DATABASE {db} FROM PUBLIC",
            "GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {app}, {system}",
            "ALTER SCHEMA public OWNER TO {owner}",
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            "GRANT USAGE ON SCHEMA public TO {app}, {system}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
            " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}, {system}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
            " GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {app}, {system}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
            " GRANT EXECUTE ON FUNCTIONS TO {app}, {system}",
            # Tables created before these defaults (e.g. on an upgraded install) get them too.
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public"
            " TO {app}, {system}",
            "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {app}, {system}",
        ):
            cur.execute(sql.SQL(statement).format(**ident))
        # The grants above opened the audit trail too: only its owner writes it (docs/audit.md).
        cur.execute("SELECT to_regprocedure('audit_close()') IS NOT NULL")
        if (found := cur.fetchone()) and found[0]:
            cur.execute("SELECT audit_close()")


def embedded_urls(
    cluster_url: URL, settings: DatabaseSettings, database: str | None = None
) -> DatabaseUrls:
    """The three role URLs on an embedded cluster reached through `cluster_url` (any user)."""
    on_db = cluster_url.set(database=database or settings.name)
    return DatabaseUrls(
        app=on_db.set(username=settings.app_role),
        owner=on_db.set(username=settings.owner_role),
        system=on_db.set(username=settings.system_role),
    )

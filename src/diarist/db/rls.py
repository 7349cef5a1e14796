"""Row-level security DDL for migrations: one policy shape for every user-owned table.

A row is visible and writable only when its owner column equals the transaction's
`diarist.user_id`; an empty or missing setting means "no user" and matches nothing.
"""

from __future__ import annotations

CURRENT_USER_FUNCTION = """
CREATE OR REPLACE FUNCTION diarist_current_user_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('diarist.user_id', true), '')::uuid $$
"""
DROP_CURRENT_USER_FUNCTION = "DROP FUNCTION IF EXISTS diarist_current_user_id()"


def policy_name(table: str) -> str:
    return f"{table}_owner_only"


def enable_owner_rls(table: str, column: str = "user_id") -> list[str]:
    """Statements that enable and force RLS on `table`, keyed on `column`."""
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {policy_name(table)} ON {table} "
        f"USING ({column} = diarist_current_user_id()) "
        f"WITH CHECK ({column} = diarist_current_user_id())",
    ]


def disable_owner_rls(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS {policy_name(table)} ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]

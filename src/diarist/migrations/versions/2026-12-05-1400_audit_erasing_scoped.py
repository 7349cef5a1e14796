"""audit erasing scoped: the trail is spared only while the acting account's own row is gone
(diarist.erasing names the account, audit_erasing() checks), and audit_forget refuses an
account that still exists — a session can no longer hide its writes or wipe a live account's
trail; the SHA-256 of addresses that rows written before revision 0029 kept (an address is
guessable from its unkeyed hash) is removed from the trail; making a partition locks the
default partition while it moves its rows and attaches (a row written between the two made
the attach fail) — a lock kept going down, where it does no harm

Revision ID: 0033_audit_erasing_scoped
Revises: 0032_vocabulary_per_statement
Create Date: 2026-12-05 14:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from diarist.db.sql import read_sql

revision: str = "0033_audit_erasing_scoped"
down_revision: str | None = "0032_vocabulary_per_statement"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FORGET_BEFORE = """
CREATE OR REPLACE FUNCTION audit_forget(p_user uuid)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    forgotten bigint;
BEGIN
    IF p_user IS DISTINCT FROM diarist_current_user_id()
       AND NOT audit_is_system()
    THEN
        RAISE EXCEPTION 'only its owner erases an account''s trail'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM audit_log WHERE user_id = p_user;
    GET DIAGNOSTICS forgotten = ROW_COUNT;
    RETURN forgotten;
END
$$
"""

# Before, the flag was 'on' and spared any statement of the session.
_ERASING_BEFORE = """
CREATE OR REPLACE FUNCTION audit_erasing()
RETURNS boolean
LANGUAGE sql STABLE SET search_path = public, pg_temp
AS $$ SELECT coalesce(current_setting('diarist.erasing', true) = 'on', false) $$
"""


def upgrade() -> None:
    op.execute(read_sql("audit/partitions.sql"))
    op.execute(read_sql("audit/triggers.sql"))
    # As the owner, past the trail's forced row security (nobody else may change it).
    op.execute("ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY")
    op.execute(
        "UPDATE audit_log SET old_values = old_values - 'email', new_values = new_values - 'email'"
        " WHERE table_name IN ('users', 'user_identities')"
        " AND (old_values ? 'email' OR new_values ? 'email')"
    )
    op.execute("ALTER TABLE audit_log FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    # The removed hashes stay removed (they were the leak).
    op.execute(_FORGET_BEFORE)
    op.execute(_ERASING_BEFORE)

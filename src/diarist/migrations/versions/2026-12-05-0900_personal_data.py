"""personal data at rest: the account's address, the address and user agent a session came
from and the address a linked provider gave are sealed (AES-256-GCM in the application, keys
from the settings or the data dir); accounts are found by the address' keyed blind index

Revision ID: 0029_personal_data
Revises: 0028_security_event_chain
Create Date: 2026-12-05 09:00:00.000000+00:00
"""

import functools
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from diarist.accounts.personal_data import (
    IDENTITY_EMAIL,
    SESSION_IP,
    SESSION_USER_AGENT,
    USER_EMAIL,
    PersonalData,
)
from diarist.db.migrate import migration_settings
from diarist.db.sql import read_sql

revision: str = "0029_personal_data"
down_revision: str | None = "0028_security_event_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FIND_ACCOUNT_0001 = """
CREATE FUNCTION auth_find_account(p_email text)
RETURNS TABLE (user_id uuid, password_hash text, is_active boolean, deactivated_by text,
               email_verified boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT id, password_hash, is_active, deactivated_by, email_verified_at IS NOT NULL
    FROM users WHERE email = p_email
$$;
REVOKE ALL ON FUNCTION auth_find_account(text) FROM PUBLIC;
"""
_BATCH = 1000


def _keys() -> Callable[[], PersonalData]:
    """The server's keys, read once there is something to seal or open (a new database
    migrates without touching the data dir)."""
    return functools.cache(lambda: PersonalData.from_settings(migration_settings()))


def _rewrite(
    table: str,
    source: Sequence[str],
    target: Sequence[str],
    convert: Callable[..., tuple[object, ...]],
) -> None:
    """Every row's `source` columns turned into its `target` columns, a batch at a time."""
    connection = op.get_bind()
    columns = ", ".join(source)
    assignments = ", ".join(f"{name} = :{name}" for name in target)
    update = sa.text(f"UPDATE {table} SET {assignments} WHERE id = :id")  # noqa: S608 (constants)
    last = None
    while True:
        after = "" if last is None else "WHERE id > :last"
        rows = connection.execute(
            sa.text(f"SELECT id, {columns} FROM {table} {after} ORDER BY id LIMIT {_BATCH}"),  # noqa: S608 (constants)
            {"last": last},
        ).all()
        if not rows:
            return
        connection.execute(
            update,
            [dict(zip(["id", *target], [row[0], *convert(*row[1:])], strict=True)) for row in rows],
        )
        last = rows[-1][0]


def upgrade() -> None:
    personal = _keys()
    op.add_column("users", sa.Column("email_sealed", sa.LargeBinary(), nullable=True))
    op.add_column("users", sa.Column("email_index", sa.LargeBinary(), nullable=True))
    op.add_column("auth_tokens", sa.Column("ip_sealed", sa.LargeBinary(), nullable=True))
    op.add_column("auth_tokens", sa.Column("user_agent_sealed", sa.LargeBinary(), nullable=True))
    op.add_column("user_identities", sa.Column("email_sealed", sa.LargeBinary(), nullable=True))
    _rewrite(
        "users",
        ["email"],
        ["email_sealed", "email_index"],
        lambda email: (personal().seal(USER_EMAIL, email), personal().email_index(email)),
    )
    _rewrite(
        "auth_tokens",
        ["ip_address", "user_agent"],
        ["ip_sealed", "user_agent_sealed"],
        lambda ip, agent: (
            personal().seal_optional(SESSION_IP, ip),
            personal().seal_optional(SESSION_USER_AGENT, agent),
        ),
    )
    _rewrite(
        "user_identities",
        ["email"],
        ["email_sealed"],
        lambda email: (personal().seal_optional(IDENTITY_EMAIL, email),),
    )
    op.execute("DROP FUNCTION auth_find_account(text)")
    op.drop_index("uq_users_email", table_name="users")
    op.drop_constraint(op.f("ck_users_email_format"), "users", type_="check")
    op.drop_constraint(op.f("ck_users_email_normalized"), "users", type_="check")
    op.drop_column("users", "email")
    op.drop_column("auth_tokens", "ip_address")
    op.drop_column("auth_tokens", "user_agent")
    op.drop_column("user_identities", "email")
    op.alter_column("users", "email_sealed", nullable=False)
    op.alter_column("users", "email_index", nullable=False)
    op.create_index("uq_users_email_index", "users", ["email_index"], unique=True)
    op.execute(read_sql("accounts/auth_find_account.sql"))
    op.execute(read_sql("audit/triggers.sql"))  # audit_users() names the columns it reads


def downgrade() -> None:
    personal = _keys()
    op.add_column("users", sa.Column("email", sa.Text(), nullable=True))
    op.add_column("auth_tokens", sa.Column("ip_address", sa.Text(), nullable=True))
    op.add_column("auth_tokens", sa.Column("user_agent", sa.Text(), nullable=True))
    op.add_column("user_identities", sa.Column("email", sa.Text(), nullable=True))
    _rewrite(
        "users", ["email_sealed"], ["email"], lambda sealed: (personal().open(USER_EMAIL, sealed),)
    )
    _rewrite(
        "auth_tokens",
        ["ip_sealed", "user_agent_sealed"],
        ["ip_address", "user_agent"],
        lambda ip, agent: (
            personal().open_optional(SESSION_IP, ip),
            personal().open_optional(SESSION_USER_AGENT, agent),
        ),
    )
    _rewrite(
        "user_identities",
        ["email_sealed"],
        ["email"],
        lambda sealed: (personal().open_optional(IDENTITY_EMAIL, sealed),),
    )
    op.execute("DROP FUNCTION auth_find_account(bytea)")
    op.drop_index("uq_users_email_index", table_name="users")
    op.drop_column("users", "email_sealed")
    op.drop_column("users", "email_index")
    op.drop_column("auth_tokens", "ip_sealed")
    op.drop_column("auth_tokens", "user_agent_sealed")
    op.drop_column("user_identities", "email_sealed")
    op.alter_column("users", "email", nullable=False)
    op.create_check_constraint(
        op.f("ck_users_email_format"),
        "users",
        "email ~ '^[^@\\s]+@[^@\\s]+$' AND length(email) <= 254",
    )
    op.create_check_constraint(
        op.f("ck_users_email_normalized"), "users", "email = lower(btrim(email))"
    )
    op.create_index("uq_users_email", "users", ["email"], unique=True)
    op.execute(_FIND_ACCOUNT_0001)
    op.execute(read_sql("audit/triggers.sql"))

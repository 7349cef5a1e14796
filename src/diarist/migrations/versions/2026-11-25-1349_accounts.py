"""accounts: users, sessions and tokens, one-time codes, security events, throttling, RLS

Revision ID: 0002_accounts
Revises: 0001_foundation
Create Date: 2026-11-25 13:49:17.859639+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from diarist.db.rls import (
    CURRENT_USER_FUNCTION,
    DROP_CURRENT_USER_FUNCTION,
    disable_owner_rls,
    enable_owner_rls,
)

revision: str = "0002_accounts"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_USER_TABLES = ("auth_tokens", "auth_codes", "security_events")

# Before a user is known (login by email, a request's bearer token) the application role cannot
# see any account. These SECURITY DEFINER functions, owned by the owner role (which bypasses RLS),
# return only what that one step needs.
_FIND_ACCOUNT = """
CREATE FUNCTION auth_find_account(p_email text)
RETURNS TABLE (user_id uuid, password_hash text, is_active boolean, deactivated_by text,
               email_verified boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT id, password_hash, is_active, deactivated_by, email_verified_at IS NOT NULL
    FROM users WHERE email = p_email
$$
"""

# Resolve a bearer token, set the tenant for the rest of the transaction (one round trip for the
# session check and the tenant), and record activity at most once a minute, sliding the expiry of
# sessions but never past their absolute limit.
_RESOLVE_BEARER = """
CREATE FUNCTION auth_resolve_token(p_token_hash bytea, p_idle interval)
RETURNS TABLE (token_id uuid, user_id uuid, kind text, scope text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    hit auth_tokens%ROWTYPE;
BEGIN
    SELECT t.* INTO hit
    FROM auth_tokens t JOIN users u ON u.id = t.user_id
    WHERE t.token_hash = p_token_hash
      AND t.revoked_at IS NULL
      AND (t.expires_at IS NULL OR t.expires_at > now())
      AND (t.absolute_expires_at IS NULL OR t.absolute_expires_at > now())
      AND u.is_active;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF hit.last_used_at < now() - interval '1 minute' THEN
        UPDATE auth_tokens SET
            last_used_at = now(),
            expires_at = CASE WHEN hit.kind = 'session'
                              THEN least(now() + p_idle, hit.absolute_expires_at)
                              ELSE hit.expires_at END
        WHERE id = hit.id;
    END IF;
    PERFORM set_config('diarist.user_id', hit.user_id::text, true);
    token_id := hit.id;
    user_id := hit.user_id;
    kind := hit.kind;
    scope := hit.scope;
    RETURN NEXT;
END
$$
"""

_FUNCTIONS = (
    _FIND_ACCOUNT,
    "REVOKE ALL ON FUNCTION auth_find_account(text) FROM PUBLIC",
    _RESOLVE_BEARER,
    "REVOKE ALL ON FUNCTION auth_resolve_token(bytea, interval) FROM PUBLIC",
)
_FUNCTION_SIGNATURES = ("auth_find_account(text)", "auth_resolve_token(bytea, interval)")


def upgrade() -> None:
    op.execute(CURRENT_USER_FUNCTION)
    op.create_table(
        "auth_throttle",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('account', 'ip')", name=op.f("ck_auth_throttle_kind")),
        sa.PrimaryKeyConstraint("kind", "key_hash", name="pk_auth_throttle"),
    )
    op.create_table(
        "users",
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("auth_provider", sa.Text(), server_default="email", nullable=False),
        sa.Column("auth_provider_id", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("deactivated_by", sa.Text(), nullable=True),
        sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "preferences",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
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
        sa.CheckConstraint(
            "auth_provider IN ('email', 'otp', 'google', 'github', 'microsoft')",
            name=op.f("ck_users_auth_provider"),
        ),
        sa.CheckConstraint(
            "deactivated_by IS NULL OR deactivated_by IN ('self', 'admin')",
            name=op.f("ck_users_deactivated_by"),
        ),
        sa.CheckConstraint(
            "email ~ '^[^@\\s]+@[^@\\s]+$' AND length(email) <= 254",
            name=op.f("ck_users_email_format"),
        ),
        sa.CheckConstraint("email = lower(btrim(email))", name=op.f("ck_users_email_normalized")),
        sa.CheckConstraint(
            "is_active = (deactivated_by IS NULL)", name=op.f("ck_users_active_matches_reason")
        ),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 200", name=op.f("ck_users_name_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index("uq_users_email", "users", ["email"], unique=True)
    op.create_table(
        "auth_codes",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('login', 'verify_email', 'reset_password')",
            name=op.f("ck_auth_codes_purpose"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_auth_codes_attempts")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_auth_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_codes")),
    )
    op.create_index(
        "ix_auth_codes_user_id_purpose", "auth_codes", ["user_id", "purpose"], unique=False
    )
    op.create_table(
        "auth_tokens",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("scope", sa.Text(), server_default="read_write", nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("ip_address", sa.Text(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_used_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("absolute_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.CheckConstraint(
            "kind = 'pat' OR name IS NULL", name=op.f("ck_auth_tokens_name_only_for_pat")
        ),
        sa.CheckConstraint("kind IN ('session', 'pat')", name=op.f("ck_auth_tokens_kind")),
        sa.CheckConstraint("scope IN ('read', 'read_write')", name=op.f("ck_auth_tokens_scope")),
        sa.CheckConstraint(
            "length(name) BETWEEN 1 AND 100", name=op.f("ck_auth_tokens_name_length")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_auth_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_tokens")),
    )
    op.create_index("ix_auth_tokens_user_id_kind", "auth_tokens", ["user_id", "kind"], unique=False)
    op.create_index("uq_auth_tokens_token_hash", "auth_tokens", ["token_hash"], unique=True)
    op.create_table(
        "security_events",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("ip_hash", sa.Text(), nullable=True),
        sa.Column("user_agent_hash", sa.Text(), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.CheckConstraint(
            "event_type IN ('register', 'login', 'logout', 'failed_login', 'password_changed',"
            " 'password_reset', 'email_verified', 'session_revoked', 'token_created',"
            " 'token_revoked', 'deactivated', 'reactivated')",
            name=op.f("ck_security_events_event_type"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_security_events_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
    )
    op.create_index(
        "ix_security_events_user_id_id", "security_events", ["user_id", "id"], unique=False
    )
    for statement in enable_owner_rls("users", column="id"):
        op.execute(statement)
    for table in _USER_TABLES:
        for statement in enable_owner_rls(table):
            op.execute(statement)
    for function in _FUNCTIONS:
        op.execute(function)


def downgrade() -> None:
    for signature in _FUNCTION_SIGNATURES:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    for table in ("users", *_USER_TABLES):
        for statement in disable_owner_rls(table):
            op.execute(statement)
    op.drop_index("ix_security_events_user_id_id", table_name="security_events")
    op.drop_table("security_events")
    op.drop_index("uq_auth_tokens_token_hash", table_name="auth_tokens")
    op.drop_index("ix_auth_tokens_user_id_kind", table_name="auth_tokens")
    op.drop_table("auth_tokens")
    op.drop_index("ix_auth_codes_user_id_purpose", table_name="auth_codes")
    op.drop_table("auth_codes")
    op.drop_index("uq_users_email", table_name="users")
    op.drop_table("users")
    op.drop_table("auth_throttle")
    op.execute(DROP_CURRENT_USER_FUNCTION)

"""user identities: OpenID Connect identities linked to accounts (issuer + subject, one account
each), owner-only RLS and the SECURITY DEFINER lookup that signing in needs; users.auth_provider
may name the provider an account was made through; two security events for linking

Revision ID: 0024_user_identities
Revises: 0023_stats_linked_by_key
Create Date: 2026-12-05 00:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from diarist.db.rls import disable_owner_rls, enable_owner_rls
from diarist.db.sql import read_sql

revision: str = "0024_user_identities"
down_revision: str | None = "0023_stats_linked_by_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_PROVIDERS = "auth_provider IN ('email', 'otp', 'google', 'github', 'microsoft')"
_NEW_PROVIDERS = "auth_provider ~ '^[a-z][a-z0-9_-]{0,31}$'"
_EVENTS = (
    "'register', 'login', 'logout', 'failed_login', 'password_changed', 'password_reset',"
    " 'email_verified', 'session_revoked', 'token_created', 'token_revoked', 'deactivated',"
    " 'reactivated'"
)


def _replace_check(table: str, name: str, condition: str) -> None:
    op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, condition)


def upgrade() -> None:
    op.create_table(
        "user_identities",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.CheckConstraint(
            "provider ~ '^[a-z][a-z0-9_-]{0,31}$'", name=op.f("ck_user_identities_provider_format")
        ),
        sa.CheckConstraint(
            "length(issuer) BETWEEN 1 AND 2000", name=op.f("ck_user_identities_issuer_length")
        ),
        sa.CheckConstraint(
            "length(subject) BETWEEN 1 AND 255", name=op.f("ck_user_identities_subject_length")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_identities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_identities")),
    )
    op.create_index(
        "uq_user_identities_issuer_subject",
        "user_identities",
        ["issuer", "subject"],
        unique=True,
    )
    op.create_index(
        "uq_user_identities_user_id_provider",
        "user_identities",
        ["user_id", "provider"],
        unique=True,
    )
    for statement in enable_owner_rls("user_identities"):
        op.execute(statement)
    op.execute(read_sql("accounts/auth_find_identity.sql"))
    _replace_check("users", "auth_provider", _NEW_PROVIDERS)
    events = f"{_EVENTS}, 'identity_linked', 'identity_unlinked'"
    _replace_check("security_events", "event_type", f"event_type IN ({events})")


def downgrade() -> None:
    op.execute(
        "DELETE FROM security_events WHERE event_type IN ('identity_linked', 'identity_unlinked')"
    )
    _replace_check("security_events", "event_type", f"event_type IN ({_EVENTS})")
    # An account made through a provider keeps its way in: a password, or emailed codes.
    op.execute(
        "UPDATE users SET auth_provider = CASE WHEN password_hash IS NULL THEN 'otp'"
        " ELSE 'email' END"
        " WHERE auth_provider NOT IN ('email', 'otp', 'google', 'github', 'microsoft')"
    )
    _replace_check("users", "auth_provider", _OLD_PROVIDERS)
    op.execute("DROP FUNCTION IF EXISTS auth_find_identity(text, text)")
    for statement in disable_owner_rls("user_identities"):
        op.execute(statement)
    op.drop_index("uq_user_identities_user_id_provider", table_name="user_identities")
    op.drop_index("uq_user_identities_issuer_subject", table_name="user_identities")
    op.drop_table("user_identities")

"""security event fields: each event's severity (info, notice, warning) and the request's id,
signed from chain version 2 on (events signed before keep verifying as version 1)

Revision ID: 0030_security_event_fields
Revises: 0029_personal_data
Create Date: 2026-12-05 10:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_security_event_fields"
down_revision: str | None = "0029_personal_data"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "security_events", sa.Column("severity", sa.Text(), server_default="info", nullable=False)
    )
    op.add_column("security_events", sa.Column("request_id", sa.Text(), nullable=True))
    op.add_column(
        "security_events",
        sa.Column("chain_version", sa.SmallInteger(), server_default="1", nullable=False),
    )
    # Events from before are given their type's severity (not signed: they stay version 1).
    op.execute(
        "UPDATE security_events SET severity = 'warning'"
        " WHERE event_type IN ('failed_login', 'vault_login_failed')"
    )
    op.execute(
        "UPDATE security_events SET severity = 'notice' WHERE event_type IN ('password_changed',"
        " 'password_reset', 'email_verified', 'session_revoked', 'token_created',"
        " 'token_revoked', 'deactivated', 'reactivated', 'identity_linked', 'identity_unlinked',"
        " 'vault_tag_created', 'vault_phrase_changed', 'vault_tag_deleted')"
    )
    op.create_check_constraint(
        op.f("ck_security_events_severity"),
        "security_events",
        "severity IN ('info', 'notice', 'warning')",
    )
    op.create_check_constraint(
        op.f("ck_security_events_chain_version"), "security_events", "chain_version IN (1, 2)"
    )


def downgrade() -> None:
    # Events signed as version 2 cover these fields: without them they no longer verify.
    op.drop_column("security_events", "chain_version")
    op.drop_column("security_events", "request_id")
    op.drop_column("security_events", "severity")

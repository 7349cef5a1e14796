"""security event chain: each security event signed (HMAC-SHA256) over its canonical JSON and
the previous event's signature of the same user; events from before stay unsigned at the head
of each chain; the vault's events

Revision ID: 0028_security_event_chain
Revises: 0027_vault
Create Date: 2026-12-05 04:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_security_event_chain"
down_revision: str | None = "0027_vault"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_EVENTS = (
    "'register', 'login', 'logout', 'failed_login', 'password_changed', 'password_reset',"
    " 'email_verified', 'session_revoked', 'token_created', 'token_revoked', 'deactivated',"
    " 'reactivated', 'identity_linked', 'identity_unlinked'"
)
_VAULT_EVENTS = (
    "'vault_tag_created', 'vault_unlocked', 'vault_login_failed', 'vault_phrase_changed',"
    " 'vault_tag_deleted'"
)


def _event_types(listed: str) -> None:
    op.drop_constraint(op.f("ck_security_events_event_type"), "security_events", type_="check")
    op.create_check_constraint(
        op.f("ck_security_events_event_type"), "security_events", f"event_type IN ({listed})"
    )


def upgrade() -> None:
    op.add_column("security_events", sa.Column("prev_signature", sa.LargeBinary(), nullable=True))
    op.add_column("security_events", sa.Column("signature", sa.LargeBinary(), nullable=True))
    _event_types(f"{_EVENTS}, {_VAULT_EVENTS}")


def downgrade() -> None:
    op.execute(f"DELETE FROM security_events WHERE event_type IN ({_VAULT_EVENTS})")  # noqa: S608 (constants)
    _event_types(_EVENTS)
    op.drop_column("security_events", "signature")
    op.drop_column("security_events", "prev_signature")

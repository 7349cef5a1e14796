"""vault oprf salt: a secret tag's OPRF key is derived from a random salt chosen when its
phrase changes (null for tags whose phrase never changed: their key is their id's), so a new
phrase never shares the OPRF key of the old one (docs/vault.md); two security events, a vault
login started (each KE2, the only trace a wrong phrase leaves) and one refused as throttled;
the fingerprint of the OPAQUE server setup a tag was registered under (null for tags from
before: not checked), so a setup file lost and made anew is reported, not taken for a wrong
phrase

Revision ID: 0031_vault_oprf_salt
Revises: 0030_security_event_fields
Create Date: 2026-12-05 12:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_vault_oprf_salt"
down_revision: str | None = "0030_security_event_fields"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_BEFORE = (
    "'register', 'login', 'logout', 'failed_login', 'password_changed', 'password_reset',"
    " 'email_verified', 'session_revoked', 'token_created', 'token_revoked', 'deactivated',"
    " 'reactivated', 'identity_linked', 'identity_unlinked', 'vault_tag_created',"
    " 'vault_unlocked', 'vault_login_failed', 'vault_phrase_changed', 'vault_tag_deleted'"
)
_NEW = "'vault_login_started', 'vault_login_throttled'"


def _event_types(listed: str) -> None:
    op.drop_constraint(op.f("ck_security_events_event_type"), "security_events", type_="check")
    op.create_check_constraint(
        op.f("ck_security_events_event_type"), "security_events", f"event_type IN ({listed})"
    )


def upgrade() -> None:
    _event_types(f"{_BEFORE}, {_NEW}")
    op.add_column("secret_tags", sa.Column("oprf_salt", sa.LargeBinary(), nullable=True))
    op.create_check_constraint(
        op.f("ck_secret_tags_oprf_salt_length"), "secret_tags", "octet_length(oprf_salt) = 16"
    )
    op.add_column("secret_tags", sa.Column("setup_fingerprint", sa.LargeBinary(), nullable=True))
    op.create_check_constraint(
        op.f("ck_secret_tags_setup_fingerprint_length"),
        "secret_tags",
        "octet_length(setup_fingerprint) = 8",
    )


def downgrade() -> None:
    # A tag whose phrase changed since cannot be opened without its salt: going down is
    # refused rather than locking those vaults for good.
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM secret_tags WHERE oprf_salt IS NOT NULL) THEN"
        " RAISE EXCEPTION 'secret tags with a changed phrase hold an OPRF salt: downgrading"
        " would lock them'; END IF; END $$"
    )
    op.drop_column("secret_tags", "setup_fingerprint")
    op.drop_constraint(op.f("ck_secret_tags_oprf_salt_length"), "secret_tags", type_="check")
    op.drop_column("secret_tags", "oprf_salt")
    # The two event types stay allowed going down: their rows are links of signed chains,
    # and deleting them would break every chain after them (diarist audit verify).

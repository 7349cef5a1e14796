"""vault login address: a pending vault login keeps the throttle counter of the address its
KE2 went to, so that the KE3 proving the phrase takes the count back there (it took it from
the KE3's address, which differs when a client moves between networks)

Revision ID: 0034_vault_login_address
Revises: 0033_audit_erasing_scoped
Create Date: 2026-12-05 15:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034_vault_login_address"
down_revision: str | None = "0033_audit_erasing_scoped"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("opaque_sessions", sa.Column("address_key", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("opaque_sessions", "address_key")

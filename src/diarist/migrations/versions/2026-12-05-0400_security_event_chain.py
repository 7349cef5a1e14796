"""security event chain: each security event signed (HMAC-SHA256) over its canonical JSON and
the previous event's signature of the same user; events from before stay unsigned at the head
of each chain

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


def upgrade() -> None:
    op.add_column("security_events", sa.Column("prev_signature", sa.LargeBinary(), nullable=True))
    op.add_column("security_events", sa.Column("signature", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("security_events", "signature")
    op.drop_column("security_events", "prev_signature")

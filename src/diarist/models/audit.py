"""The row audit trail: who changed which row of a user's data, when, how, and in which
request — with diary text and secrets as a SHA-256 and a length, never the text. Written only
by statement-level triggers (`db/sql/audit/`), partitioned by month, read by the user for
their own rows. See docs/audit.md."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    PrimaryKeyConstraint,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from diarist.models.base import Base

OPERATIONS = ("INSERT", "UPDATE", "DELETE")


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        PrimaryKeyConstraint("at", "id", name="pk_audit_log"),
        CheckConstraint("operation IN ('INSERT', 'UPDATE', 'DELETE')", name="operation"),
        Index("ix_audit_log_user_id_at", "user_id", "at", "id"),
        {"postgresql_partition_by": "RANGE (at)"},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Whose row (no foreign key: the trail of a deleted row outlives it; an erased account's
    # goes with the account).
    user_id: Mapped[uuid.UUID]
    # The transaction's tenant (None: the system role acting for no user) and the role.
    actor_id: Mapped[uuid.UUID | None]
    actor_role: Mapped[str] = mapped_column(Text)
    table_name: Mapped[str] = mapped_column(Text)
    operation: Mapped[str] = mapped_column(Text)
    # The row's key columns' values joined by "/".
    row_key: Mapped[str] = mapped_column(Text)
    changed: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    old_values: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    new_values: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(Text)

"""Imports started over the API: the uploaded file waits under the data dir while a job imports
it; the row holds its progress and, once done, its report (see docs/imports.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, Index, Integer, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from diarist.models.base import Base, UUIDv7PrimaryKey, in_list, user_fk

IMPORT_STATUSES = ("queued", "running", "done", "failed")


class Import(UUIDv7PrimaryKey, Base):
    __tablename__ = "imports"
    __table_args__ = (
        CheckConstraint(in_list("status", IMPORT_STATUSES), name="status"),
        CheckConstraint("length(file_name) <= 255", name="file_name_length"),
        Index("ix_imports_user_id_created_at", "user_id", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    # One of diarist.imports.sources.READERS, checked by the API (no constraint: a new format
    # needs no revision).
    format: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    dry_run: Mapped[bool] = mapped_column(Boolean, server_default="false")
    status: Mapped[str] = mapped_column(Text, server_default="queued")
    read: Mapped[int] = mapped_column(Integer, server_default="0")
    created: Mapped[int] = mapped_column(Integer, server_default="0")
    updated: Mapped[int] = mapped_column(Integer, server_default="0")
    unchanged: Mapped[int] = mapped_column(Integer, server_default="0")
    failed: Mapped[int] = mapped_column(Integer, server_default="0")
    attached: Mapped[int] = mapped_column(Integer, server_default="0")
    attachments_failed: Mapped[int] = mapped_column(Integer, server_default="0")
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    error_code: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

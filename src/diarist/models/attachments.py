"""Attachments: files on entries. The bytes live in a content-addressed store (one object per
user and SHA-256: the same photo on ten entries is stored once); `attachment_blobs` records
each stored object, `attachments` each file on an entry (docs/attachments.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from diarist.models.base import Base, UUIDv7PrimaryKey, in_list, same_user_fk, user_fk

ATTACHMENT_KINDS = ("image", "audio", "video", "pdf")


class AttachmentBlob(Base):
    """A stored object: one per user and content. Removed by the collector once no attachment
    names it (and its bytes with it)."""

    __tablename__ = "attachment_blobs"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "sha256", name="pk_attachment_blobs"),
        CheckConstraint("octet_length(sha256) = 32", name="sha256_length"),
        CheckConstraint("size_bytes >= 0", name="size"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    sha256: Mapped[bytes] = mapped_column(LargeBinary)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # Sniffed from the bytes when stored, never taken from a name or a header.
    media_type: Mapped[str] = mapped_column(Text)
    # The original carries a location (EXIF GPS): it is served as its copy without one.
    has_location: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # The variants stored beside the original, by name (`store.THUMBNAIL` ...), and their sizes.
    variants: Mapped[dict[str, int]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Attachment(UUIDv7PrimaryKey, Base):
    """A file on an entry. Goes with its entry (purged from the trash) or on its own."""

    __tablename__ = "attachments"
    __table_args__ = (
        same_user_fk("attachments", "entry_id", "entries", "entry"),
        ForeignKeyConstraint(
            ["user_id", "sha256"],
            ["attachment_blobs.user_id", "attachment_blobs.sha256"],
            name="fk_attachments_blob",
        ),
        UniqueConstraint("entry_id", "sha256", name="uq_attachments_entry_id_sha256"),
        CheckConstraint(in_list("kind", ATTACHMENT_KINDS), name="kind"),
        CheckConstraint("length(file_name) BETWEEN 1 AND 255", name="file_name_length"),
        CheckConstraint("length(source_id) <= 200", name="source_id_length"),
        Index("ix_attachments_user_id_sha256", "user_id", "sha256"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column()
    entry_id: Mapped[uuid.UUID] = mapped_column()
    sha256: Mapped[bytes] = mapped_column(LargeBinary)
    kind: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(Text)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    # Serve the original with its location (EXIF GPS) instead of the copy without it.
    keep_location: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # The id the file had in the tool it came from (Day One's identifier), for re-imports.
    source_id: Mapped[str | None] = mapped_column(Text)
    # What the source said of the file that has no column (Day One's photo fields ...).
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

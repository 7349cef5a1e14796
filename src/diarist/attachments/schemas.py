"""Shapes of the attachments API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from diarist.models import Attachment, AttachmentBlob


class AttachmentOut(BaseModel):
    """A file on an entry. Its bytes: `content_url` (ranges, ETag), its thumbnail:
    `thumbnail_url` (images). Put `markdown` in the entry's text to show it there."""

    id: uuid.UUID
    entry_id: uuid.UUID
    kind: Literal["image", "audio", "video", "pdf"]
    media_type: str = Field(description="Of the original, sniffed from its bytes.")
    file_name: str
    size_bytes: int
    sha256: str = Field(description="The original's SHA-256, hex.")
    width: int | None = Field(description="Images: as shown (EXIF orientation applied).")
    height: int | None
    has_location: bool = Field(description="The original carries a location (EXIF GPS).")
    keep_location: bool = Field(
        description="Serve the original with its location; otherwise a copy without it."
    )
    source_id: str | None = Field(description="Its id in the tool it was imported from.")
    metadata: dict[str, object]
    created_at: datetime
    markdown: str
    content_url: str
    thumbnail_url: str | None

    @classmethod
    def of(cls, attachment: Attachment, blob: AttachmentBlob) -> AttachmentOut:
        url = f"/api/v1/attachments/{attachment.id}"
        image = attachment.kind == "image"
        return cls(
            id=attachment.id, entry_id=attachment.entry_id, kind=attachment.kind,
            media_type=blob.media_type, file_name=attachment.file_name,
            size_bytes=blob.size_bytes, sha256=blob.sha256.hex(), width=attachment.width,
            height=attachment.height, has_location=blob.has_location,
            keep_location=attachment.keep_location, source_id=attachment.source_id,
            metadata=attachment.meta, created_at=attachment.created_at,
            markdown=f"{'!' if image else ''}[{_label(attachment.file_name)}]"
            f"(attachment:{attachment.id})",
            content_url=f"{url}/content",
            thumbnail_url=f"{url}/thumbnail" if "thumb.jpg" in blob.variants else None,
        )  # fmt: skip


def _label(name: str) -> str:
    """A file name as Markdown link text (brackets escaped)."""
    return name.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


class AttachmentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep_location: bool


class UsageOut(BaseModel):
    used_bytes: int = Field(description="Each distinct file counted once.")
    quota_bytes: int
    files: int
    max_file_bytes: int

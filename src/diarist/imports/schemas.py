"""Shapes of the imports API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ImportFormat = Literal[
    "dayone", "dayone-classic", "diarist", "joplin", "jrnl", "jrnl-json", "markdown", "memos"
]  # fmt: skip


class ImportFailure(BaseModel):
    id: str = Field(description="The entry's id in the source (or its place, `#3`).")
    reason: str


class ImportOut(BaseModel):
    """An import and its progress; once `done`, its report (`failures` lists up to 1,000)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    format: ImportFormat
    file_name: str
    size_bytes: int
    dry_run: bool
    status: Literal["queued", "running", "done", "failed"]
    read: int
    created: int
    updated: int
    unchanged: int
    failed: int
    attached: int = Field(description="Files (Day One's photos ...) attached to the entries.")
    attachments_failed: int = Field(
        description="Files that could not be attached (listed in `failures` as `entry/file`)."
    )
    failures: list[ImportFailure]
    error_code: str | None = Field(description="Why the file could not be imported at all.")
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

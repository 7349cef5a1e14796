"""Request and response shapes of the audit trail (docs/audit.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from diarist.kit.validation import StrictInput

AuditedTable = Literal[
    "users", "entries", "entry_revisions", "entry_tags", "tags", "attachments", "reminders",
    "notification_webhooks", "calendar_feeds", "push_subscriptions", "user_identities",
]  # fmt: skip


class AuditQuery(StrictInput):
    table: AuditedTable | None = None
    row: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    cursor: Annotated[str, Field(max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    # "me" (a request of mine) or "system" (the worker, an import, an administrator).
    actor: Literal["me", "system"]
    table_name: str
    operation: Literal["INSERT", "UPDATE", "DELETE"]
    row_key: str
    changed: list[str] | None
    # Diary text and secrets as {"sha256", "length"}, never the text.
    old_values: dict[str, Any] | None
    new_values: dict[str, Any] | None
    request_id: str | None


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None

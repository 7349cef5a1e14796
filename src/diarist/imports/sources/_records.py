"""What every reader yields: one source entry as the fields of a new diarist entry."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any


@dataclass(frozen=True)
class SourceMedia:
    """A file of a source entry (a Day One photo): its id in the source, a name, how to read
    its bytes (while the reader's archive is open), and the source's fields about it."""

    source_id: str
    file_name: str
    open: Callable[[], IO[bytes]]
    meta: dict[str, Any]


@dataclass(frozen=True)
class SourceRecord:
    """One entry of the source. `fields` are those of `POST /api/v1/entries` (JSON values);
    `error` says why the entry cannot be read (then `fields` is empty)."""

    import_id: str
    fields: dict[str, Any]
    error: str | None = None
    media: tuple[SourceMedia, ...] = ()
    # Files the entry names that the source does not hold (by their source id).
    missing_media: tuple[str, ...] = ()

    @property
    def digest(self) -> bytes:
        """A digest of the fields: the same on a later import means the entry is unchanged."""
        canonical = json.dumps(self.fields, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).digest()


def failed(import_id: str, reason: str) -> SourceRecord:
    return SourceRecord(import_id, {}, reason)


def markdown(text: str) -> dict[str, str]:
    """raw_data of a Markdown entry."""
    return {"format": "markdown", "text": text}


def heading_title(text: str, limit: int = 500) -> str | None:
    """The first line as a title when it is a Markdown heading (`# Title`), as Day One and
    Markdown notes start; the text keeps it."""
    first = text.lstrip("\n").split("\n", 1)[0].strip()
    if not first.startswith("#"):
        return None
    title = first.lstrip("#").strip()
    return title[:limit] or None


def json_safe(value: Any, *, naive_is_utc: bool = False) -> Any:
    """A source's structured value as JSON for `metadata`: dates as ISO text (a naive date-time
    taken as UTC with `naive_is_utc`, as property lists mean it), bytes as base64, anything
    else not JSON as its text."""
    if isinstance(value, dict):
        return {str(key): json_safe(item, naive_is_utc=naive_is_utc) for key, item in value.items()}
    if isinstance(value, list):
        return [json_safe(item, naive_is_utc=naive_is_utc) for item in value]
    if isinstance(value, datetime) and naive_is_utc and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if isinstance(value, date):  # a datetime is a date too
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)

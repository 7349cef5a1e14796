"""Opaque keyset cursors: stable under concurrent inserts, no COUNT(*), no OFFSET."""

from __future__ import annotations

import base64
import json
from typing import Any

from diarist.errors import DiaristError


class InvalidCursor(DiaristError):
    status = 400
    code = "invalid_cursor"
    title = "Invalid cursor"


def encode_cursor(*values: Any) -> str:
    """Encode the sort key of the last row of a page."""
    raw = json.dumps([str(value) for value in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> list[str]:
    """Decode a cursor made by `encode_cursor` with `parts` values; 400 if it is not one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the stack
        raise InvalidCursor("The cursor is not one this server issued.") from None
    if not isinstance(values, list) or len(values) != parts:
        raise InvalidCursor("The cursor is not one this server issued.")
    return [str(value) for value in values]

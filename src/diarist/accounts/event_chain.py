"""The security log as a chain of signatures, one chain a user (docs/security.md, "The
security log"): each event is signed with HMAC-SHA256 (a key derived from the server's secret)
over its canonical JSON — its id, owner, type, hashed address and user agent, details, time —
and the previous event's signature. Changing, removing or inserting a row breaks the chain at
that row; `diarist audit verify` finds the first broken link of each user. One chain a user:
deleting an account deletes its chain and breaks no other (the daily retention job deletes a
chain's oldest rows; the first row left is then its anchor)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from diarist.accounts.secrets import Keyring


def canonical(
    event_id: uuid.UUID, user_id: uuid.UUID, event_type: str, ip_hash: str | None,
    user_agent_hash: str | None, details: dict[str, Any], created_at: datetime,
    prev_signature: bytes | None,
) -> bytes:  # fmt: skip
    document = {
        "id": str(event_id),
        "user_id": str(user_id),
        "event_type": event_type,
        "ip_hash": ip_hash,
        "user_agent_hash": user_agent_hash,
        "details": details,
        "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "prev": prev_signature.hex() if prev_signature else None,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class BrokenLink:
    user_id: uuid.UUID
    event_id: uuid.UUID
    reason: str


def first_broken_link(keyring: Keyring, rows: list[Any]) -> BrokenLink | None:
    """The first row of one user's events (oldest first) whose signature does not check or
    that does not follow the row before it; None when the chain holds. Rows from before the
    chain (no signature) may only come first."""
    previous: bytes | None = None
    chained = False
    for row in rows:
        if row.signature is None:
            if chained:
                return BrokenLink(row.user_id, row.id, "an unsigned event inside the chain")
            continue
        expected = keyring.event_signature(
            canonical(
                row.id,
                row.user_id,
                row.event_type,
                row.ip_hash,
                row.user_agent_hash,
                row.details,
                row.created_at,
                row.prev_signature,
            )
        )
        if bytes(row.signature) != expected:
            return BrokenLink(row.user_id, row.id, "its signature does not match its content")
        if chained and row.prev_signature != previous:
            return BrokenLink(row.user_id, row.id, "it does not follow the event before it")
        previous, chained = bytes(row.signature), True
    return None

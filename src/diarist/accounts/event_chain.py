"""The security log as a chain of signatures, one chain a user (docs/security.md, "The
security log"): each event is signed with HMAC-SHA256 (a key derived from the server's secret)
over its canonical JSON — its id, owner, type, severity, hashed address and user agent,
details, time, request id — and the previous event's signature. Changing, removing or
inserting a row breaks the chain at that row; `diarist audit verify` finds the first broken
link of each user. One chain a user: deleting an account deletes its chain and breaks no other
(the daily retention job deletes a chain's oldest rows; the first row left is then its
anchor)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from diarist.accounts.secrets import Keyring

# A failed attempt is a warning; a change to how one signs in or what one can reach, a notice;
# everything else (signing in and out, registering, unlocking the vault) is information.
SEVERITY = {
    "failed_login": "warning",
    "vault_login_failed": "warning",
    "vault_login_throttled": "warning",
    **dict.fromkeys(
        ("password_changed", "password_reset", "email_verified", "session_revoked",
         "token_created", "token_revoked", "deactivated", "reactivated", "identity_linked",
         "identity_unlinked", "vault_tag_created", "vault_phrase_changed", "vault_tag_deleted"),
        "notice",
    ),
}  # fmt: skip
CHAIN_VERSION = 2


def canonical(event: Any) -> bytes:
    """The signed form of a security event (a row or a SecurityEvent): sorted-key JSON of its
    fields and the previous event's signature. Version 2 adds severity and request id (rows
    signed before them keep verifying as version 1)."""
    document = {
        "id": str(event.id),
        "user_id": str(event.user_id),
        "event_type": event.event_type,
        "ip_hash": event.ip_hash,
        "user_agent_hash": event.user_agent_hash,
        "details": event.details,
        "created_at": event.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "prev": event.prev_signature.hex() if event.prev_signature else None,
    }
    if event.chain_version >= 2:
        document |= {
            "v": event.chain_version,
            "severity": event.severity,
            "request_id": event.request_id,
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
        expected = keyring.event_signature(canonical(row))
        if bytes(row.signature) != expected:
            return BrokenLink(row.user_id, row.id, "its signature does not match its content")
        if chained and row.prev_signature != previous:
            return BrokenLink(row.user_id, row.id, "it does not follow the event before it")
        previous, chained = bytes(row.signature), True
    return None

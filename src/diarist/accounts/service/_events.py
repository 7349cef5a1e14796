"""The security log: each user's append-only record of sign-ins, changes and revocations."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import repository as repo
from diarist.accounts.event_chain import CHAIN_VERSION, SEVERITY, canonical
from diarist.accounts.service._context import AccountsContext, Client
from diarist.kit.middleware import current_request_id
from diarist.kit.pagination import InvalidCursor, decode_cursor, encode_cursor
from diarist.models import SecurityEvent

_log = structlog.get_logger("diarist.accounts")


async def record_event(
    session: AsyncSession,
    ctx: AccountsContext,
    user_id: uuid.UUID,
    event_type: str,
    client: Client | None = None,
    *,
    once_in_a_row: bool = False,
    **details: Any,
) -> None:
    """Append to the user's security log, signed onto the user's chain (event_chain), with
    its severity and the request's id; address and user agent only as keyed hashes.
    `once_in_a_row`: not again while it is the log's last event (with the same details) —
    for what a client can repeat at will, such as a refused attempt, so that repeating it
    writes nothing."""
    prev, last_type, last_details = await repo.lock_event_chain(session, user_id)
    if once_in_a_row and (last_type, last_details) == (event_type, details):
        return
    event = SecurityEvent(
        id=await repo.new_event_id(session), user_id=user_id, event_type=event_type,
        severity=SEVERITY.get(event_type, "info"), request_id=current_request_id(),
        ip_hash=ctx.keyring.audit_digest(client.ip) if client else None,
        user_agent_hash=ctx.keyring.audit_digest(client.user_agent) if client else None,
        details=details, created_at=ctx.clock.now(), prev_signature=prev,
        chain_version=CHAIN_VERSION,
    )  # fmt: skip
    event.signature = ctx.keyring.event_signature(canonical(event))
    await repo.insert_event(session, event)
    _log.info("security_event", event_type=event_type, user_id=str(user_id))


async def list_security_events(
    session: AsyncSession, user_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[list[SecurityEvent], str | None]:
    """One page of the user's security log, newest first, and the cursor of the next."""
    before = None
    if cursor:
        try:
            before = uuid.UUID(decode_cursor(cursor, 1)[0])
        except ValueError:
            raise InvalidCursor("The cursor is not one this server issued.") from None
    rows = await repo.list_events(session, user_id, before=before, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].id) if more and rows else None

"""Sealing personal data again: after a new key is put first (`diarist user rotate-key`), or
after the server's secret key changed (the blind index is derived from it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import repository as repo
from diarist.accounts.personal_data import (
    IDENTITY_EMAIL,
    SESSION_IP,
    SESSION_USER_AGENT,
    USER_EMAIL,
    PersonalData,
    sealed_key_id,
)

_BATCH = 500


def _resealers(personal: PersonalData) -> dict[str, Callable[..., dict[str, Any] | None]]:
    """For each table, what turns a row's sealed columns into the values to write, or None
    when they are sealed under the newest key (and, for an address, indexed as now)."""
    newest = personal.newest_key_id

    def current(*values: bytes | None) -> bool:
        return all(value is None or sealed_key_id(value) == newest for value in values)

    def user(sealed: bytes, index: bytes) -> dict[str, Any] | None:
        email = personal.open(USER_EMAIL, sealed)
        fresh_index = personal.email_index(email)
        if current(sealed) and index == fresh_index:
            return None
        return {"email_sealed": personal.seal(USER_EMAIL, email), "email_index": fresh_index}

    def token(ip: bytes | None, agent: bytes | None) -> dict[str, Any] | None:
        if current(ip, agent):
            return None
        return {
            "ip_sealed": personal.seal_optional(SESSION_IP, personal.open_optional(SESSION_IP, ip)),
            "user_agent_sealed": personal.seal_optional(
                SESSION_USER_AGENT, personal.open_optional(SESSION_USER_AGENT, agent)
            ),
        }

    def identity(sealed: bytes | None) -> dict[str, Any] | None:
        if current(sealed):
            return None
        opened = personal.open_optional(IDENTITY_EMAIL, sealed)
        return {"email_sealed": personal.seal_optional(IDENTITY_EMAIL, opened)}

    return {"users": user, "auth_tokens": token, "user_identities": identity}


async def reseal_personal_data(session: AsyncSession, personal: PersonalData) -> dict[str, int]:
    """Seal every personal value under the newest key and index every address with the
    current index key (system role); how many rows of each table were written. Idempotent:
    a second run writes nothing."""
    written: dict[str, int] = {}
    for table, reseal in _resealers(personal).items():
        written[table] = 0
        after = None
        while rows := await repo.sealed_batch(session, table, after, _BATCH):
            changes = [
                {"id": row[0], **change} for row in rows if (change := reseal(*row[1:])) is not None
            ]
            await repo.update_sealed(session, table, changes)
            written[table] += len(changes)
            after = rows[-1][0]
    return written

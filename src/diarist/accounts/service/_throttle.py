"""Throttling of wrong passwords and codes (sign-in, codes, re-checks before a change): per
account and per address, with backoff."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import repository as repo
from diarist.accounts.errors import (
    CodeExpired,
    InvalidCode,
    InvalidCredentials,
    TooManyAttempts,
    WrongPassword,
)
from diarist.accounts.service._context import AccountsContext, Client

# What a wrong guess at a secret raises; each keeps its writes, so the count survives it.
_WRONG_GUESSES = (InvalidCredentials, WrongPassword, InvalidCode, CodeExpired)


def backoff_seconds(failures: int, free: int, base: float, cap: float) -> float:
    """No wait for the first `free` failures, then base, 2·base, 4·base … up to `cap`."""
    if failures <= free:
        return 0.0
    return float(min(cap, base * 2 ** (failures - free - 1)))


def derive_throttle_keys(
    ctx: AccountsContext, email: str, client: Client
) -> list[tuple[str, bytes]]:
    """The counters an attempt on `email` from `client` counts against: account, then address."""
    keys = [("account", ctx.keyring.identifier_digest("account", email))]
    if client.ip:
        keys.append(("ip", ctx.keyring.identifier_digest("ip", client.ip)))
    return keys


async def check_throttle(
    session: AsyncSession, ctx: AccountsContext, keys: list[tuple[str, bytes]]
) -> None:
    """Lock the counters and refuse (429) while any of them is blocked."""
    now = ctx.clock.now()
    wait = 0.0
    for kind, key in keys:  # always account before address: one lock order for everyone
        state = await repo.throttle_lock(session, kind, key, now)
        if state.blocked_until is not None and state.blocked_until > now:
            wait = max(wait, (state.blocked_until - now).total_seconds())
    if wait > 0:
        raise TooManyAttempts(wait)


async def record_failed_attempt(
    session: AsyncSession, ctx: AccountsContext, keys: list[tuple[str, bytes]]
) -> None:
    """Count a failure against each counter and block it for its backoff."""
    auth = ctx.settings.auth
    now = ctx.clock.now()
    window = timedelta(hours=auth.failure_window_hours)
    for kind, key in keys:
        failures = await repo.throttle_record_failure(session, kind, key, now, window)
        free = auth.account_free_failures if kind == "account" else auth.ip_free_failures
        delay = backoff_seconds(failures, free, auth.backoff_base_s, auth.backoff_cap_s)
        await repo.throttle_block(
            session, kind, key, now + timedelta(seconds=delay) if delay else None
        )


@asynccontextmanager
async def guarded_attempt(
    session: AsyncSession, ctx: AccountsContext, keys: list[tuple[str, bytes]]
) -> AsyncIterator[None]:
    """One try at a password or code, whatever the door (login, code, re-check before a
    change): refused (429) while a counter is blocked; a wrong guess raised inside counts
    against every counter on its way out."""
    await check_throttle(session, ctx, keys)
    try:
        yield
    except _WRONG_GUESSES:
        await record_failed_attempt(session, ctx, keys)
        raise


async def forgive_attempt(session: AsyncSession, keys: list[tuple[str, bytes]]) -> None:
    """An attempt counted as a failure before it could be decided (a vault's KE2) was proven:
    take that one count back from each counter — never more, so that proving one's own phrase
    does not wipe what an address owes for guessing at others'."""
    for kind, key in keys:
        await repo.throttle_forgive(session, kind, key)


async def clear_account_throttle(session: AsyncSession, keys: list[tuple[str, bytes]]) -> None:
    """After a success: forget the account's counter (and the address's, if it is clean)."""
    # The account's counter goes; an address's stays while it holds failures on others.
    for kind, key in keys:
        await repo.throttle_clear(session, kind, key, only_if_clean=kind == "ip")

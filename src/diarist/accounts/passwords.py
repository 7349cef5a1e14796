"""Password hashing (Argon2id, bcrypt accepted for imports) and the password policy."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from diarist.accounts.errors import WeakPassword

MAX_LENGTH = 1024
# OWASP's Argon2id baseline: m = 19 MiB, t = 2, p = 1. bcrypt only verifies (imported hashes)
# and is rehashed to Argon2id on the next successful login.
_HASHER = PasswordHash(
    (Argon2Hasher(time_cost=2, memory_cost=19 * 1024, parallelism=1), BcryptHasher())
)
_COMMON_COUNT = 10_000
_ZXCVBN_MAX = 72


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"][:_COMMON_COUNT])


@lru_cache(maxsize=1)
def _timing_hash() -> str:
    """A real hash to verify against when the account does not exist (equal timing)."""
    return _HASHER.hash("diarist timing equaliser")


def check_password_policy(password: str, *, min_length: int, context: list[str]) -> None:
    """Refuse short, very long, common or guessable passwords (`context`: email, name)."""
    if len(password) < min_length:
        raise WeakPassword(f"Use at least {min_length} characters.", reason="too_short")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.", reason="too_long")
    if password.lower() in _common_passwords():
        raise WeakPassword("This password is among the most common ones.", reason="common")
    # zxcvbn refuses more than 72 characters; a longer password is judged by its first 72.
    if zxcvbn(password[:_ZXCVBN_MAX], user_inputs=context)["score"] < 2:
        raise WeakPassword("This password is too easy to guess.", reason="guessable")


async def hash_password(password: str) -> str:
    """Argon2id hash, computed off the event loop (~30 ms of CPU)."""
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(password: str, stored: str | None) -> tuple[bool, str | None]:
    """(matches, new hash if the stored one should be upgraded). Equal cost if `stored` is None."""
    if stored is None:
        await asyncio.to_thread(_HASHER.verify, password, _timing_hash())
        return False, None
    return await asyncio.to_thread(_HASHER.verify_and_update, password, stored)

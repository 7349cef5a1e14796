"""Emailed one-time codes: issue, check, and the flows that take one (verification, reset)."""

from __future__ import annotations

import hmac
import uuid
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import repository as repo
from diarist.accounts.errors import CodeExpired, InvalidCode
from diarist.accounts.passwords import check_password_policy, hash_password
from diarist.accounts.secrets import new_code
from diarist.accounts.service._context import AccountsContext, Client, Mail, normalize_email
from diarist.accounts.service._events import record_event
from diarist.accounts.service._throttle import (
    clear_account_throttle,
    derive_throttle_keys,
    guarded_attempt,
)
from diarist.db.engine import act_as
from diarist.models import AuthCode

# A new code for the same purpose is not mailed again within this many seconds (mail bombing).
_CODE_RESEND_S = 30

_CODE_MAILS = {
    "login": ("Your diarist sign-in code", "Your sign-in code is {code}."),
    "verify_email": ("Confirm your email for diarist", "Your confirmation code is {code}."),
    "reset_password": ("Reset your diarist password", "Your password reset code is {code}."),
}


async def issue_code_mail(
    session: AsyncSession, ctx: AccountsContext, user_id: uuid.UUID, email: str, purpose: str
) -> Mail | None:
    """Store a fresh code (retiring older ones) and the mail that carries it."""
    now = ctx.clock.now()
    previous = await repo.latest_code(session, user_id, purpose)
    if previous is not None and (now - previous.created_at).total_seconds() < _CODE_RESEND_S:
        return None
    code = new_code()
    ttl = ctx.settings.auth.code_ttl_minutes
    await repo.replace_code(
        session,
        AuthCode(
            user_id=user_id,
            purpose=purpose,
            code_hash=ctx.keyring.code_digest(user_id, purpose, code),
            created_at=now,
            expires_at=now + timedelta(minutes=ttl),
        ),
    )
    subject, line = _CODE_MAILS[purpose]
    body = (
        f"{line.format(code=code)}\n\nIt is valid for {ttl} minutes. "
        "If you did not ask for it, ignore this message.\n"
    )
    return Mail(to=email, subject=subject, body=body)


async def request_code(
    session: AsyncSession, ctx: AccountsContext, *, email: str, purpose: str
) -> Mail | None:
    """A code for login, verification or reset; the same answer whether the account exists."""
    email = normalize_email(email)
    account = await repo.find_account(session, ctx.personal.email_index(email))
    if account is None:
        return None
    if purpose == "login" and account.is_active is False and account.deactivated_by != "self":
        return None
    await act_as(session, account.user_id)
    return await issue_code_mail(session, ctx, account.user_id, email, purpose)


async def consume_code(
    session: AsyncSession, ctx: AccountsContext, user_id: uuid.UUID, purpose: str, code: str
) -> None:
    """Use up the user's latest code for `purpose`; a wrong guess counts an attempt."""
    record = await repo.latest_code(session, user_id, purpose)
    if record is None or record.attempts >= ctx.settings.auth.code_max_attempts:
        raise InvalidCode()
    expected = ctx.keyring.code_digest(user_id, purpose, code.strip())
    if not hmac.compare_digest(record.code_hash, expected):
        record.attempts += 1
        await session.flush()
        raise InvalidCode()
    # Only the right code learns that it is too old: a guess reveals nothing about the account.
    if record.expires_at <= ctx.clock.now():
        raise CodeExpired("This code has expired; ask for a new one.")
    record.consumed_at = ctx.clock.now()
    await session.flush()


async def verify_code_for_email(
    session: AsyncSession,
    ctx: AccountsContext,
    email: str,
    purpose: str,
    code: str,
    client: Client,
) -> tuple[repo.AccountLookup, list[tuple[str, bytes]]]:
    """Check a code sent to `email`, throttled like a password; unknown accounts answer alike."""
    email = normalize_email(email)
    keys = derive_throttle_keys(ctx, email, client)
    async with guarded_attempt(session, ctx, keys):
        account = await repo.find_account(session, ctx.personal.email_index(email))
        if account is None:
            raise InvalidCode()
        await act_as(session, account.user_id)
        await consume_code(session, ctx, account.user_id, purpose, code)
    return account, keys


async def verify_email(
    session: AsyncSession, ctx: AccountsContext, *, email: str, code: str, client: Client
) -> None:
    """Confirm the address with the code mailed to it."""
    account, keys = await verify_code_for_email(session, ctx, email, "verify_email", code, client)
    await repo.update_user(session, account.user_id, email_verified_at=func.now())
    await clear_account_throttle(session, keys)
    await record_event(session, ctx, account.user_id, "email_verified", client)


async def reset_password(
    session: AsyncSession,
    ctx: AccountsContext,
    *,
    email: str,
    code: str,
    new_password: str,
    client: Client,
    revoke_personal_tokens: bool = False,
) -> None:
    """Set a new password with an emailed code; every session ends, and personal access
    tokens too with `revoke_personal_tokens`."""
    normalized = normalize_email(email)
    # Checked before the account is looked at, so the answer reveals nothing about it.
    check_password_policy(
        new_password, min_length=ctx.settings.auth.password_min_length, context=[normalized]
    )
    account, keys = await verify_code_for_email(
        session, ctx, normalized, "reset_password", code, client
    )
    hashed = await hash_password(new_password)
    await repo.update_user(
        session, account.user_id, password_hash=hashed, email_verified_at=func.now()
    )
    kind = None if revoke_personal_tokens else "session"
    await repo.revoke_tokens(session, account.user_id, kind=kind)
    await clear_account_throttle(session, keys)
    await record_event(
        session,
        ctx,
        account.user_id,
        "password_reset",
        client,
        personal_tokens_revoked=revoke_personal_tokens,
    )

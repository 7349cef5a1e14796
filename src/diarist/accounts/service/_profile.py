"""The signed-in user: profile and preferences, password, proof of presence, deactivation and
deletion."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import preferences as preferences_api
from diarist.accounts import repository as repo
from diarist.accounts.errors import InvalidPreferences, SessionNotFound, WrongPassword
from diarist.accounts.passwords import check_password_policy, hash_password, verify_password
from diarist.accounts.principal import PendingPrincipal
from diarist.accounts.schemas import Preferences
from diarist.accounts.service._codes import consume_code
from diarist.accounts.service._context import AccountsContext, Client
from diarist.accounts.service._events import record_event
from diarist.accounts.service._throttle import (
    clear_account_throttle,
    derive_throttle_keys,
    guarded_attempt,
)
from diarist.db import jobs as db_jobs
from diarist.models import User

_log = structlog.get_logger("diarist.accounts")


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    """The signed-in user's row; a missing one means the account was just deleted."""
    user = await repo.get_user(session, user_id)
    if user is None:  # the token resolved, so RLS and the row agree; this is a race with delete
        raise SessionNotFound("The account no longer exists.")
    return user


async def get_my_profile_checked(session: AsyncSession, pending: PendingPrincipal) -> Any:
    """The acting user's profile row, read in the same round trip as the token check
    (db.pipeline), which is confirmed before anything else."""
    _, (found,) = await pending.read(session, repo.MY_PROFILE)
    if not found:  # the token resolved, so this is a race with delete
        raise SessionNotFound("The account no longer exists.")
    return found[0]


def merge_preferences(current: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a partial preferences document section by section, then validate the whole."""
    merged = {**Preferences().model_dump(mode="json"), **current}
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    try:
        return Preferences.model_validate(merged).model_dump(mode="json")
    except ValidationError as exc:
        errors = [
            {"loc": ["preferences", *err["loc"]], "msg": err["msg"], "type": err["type"]}
            for err in exc.errors()
        ]
        raise InvalidPreferences(
            "The preferences did not pass validation.", errors=errors
        ) from None


async def update_profile(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    name: str | None,
    preferences: Mapping[str, Any] | None,
) -> User:
    """Change the user's name or preferences (merged section by section)."""
    user = await get_user(session, user_id)
    if name is not None:
        user.name = name.strip()
    if preferences is not None:
        # A new language re-indexes the writer's entries: the journal's trigger on users
        # defers that (db/sql/journal/reindex_on_language_change.sql).
        user.preferences = merge_preferences(user.preferences, preferences)
        preferences_api.forget_for_request(session)  # read with the token: now stale
    await session.flush()
    await session.refresh(user)
    return user


async def set_password(ctx: AccountsContext, user: User, new_password: str) -> None:
    """Check the policy (against the user's email and name) and store the new hash; a
    code-only account becomes a password account."""
    check_password_policy(
        new_password,
        min_length=ctx.settings.auth.password_min_length,
        context=[ctx.email_of(user), user.name],
    )
    user.password_hash = await hash_password(new_password)
    if user.auth_provider == "otp":
        user.auth_provider = "email"


async def change_password(
    session: AsyncSession,
    ctx: AccountsContext,
    user_id: uuid.UUID,
    current_token: uuid.UUID,
    *,
    current_password: str,
    new_password: str,
    client: Client,
    revoke_personal_tokens: bool = False,
) -> None:
    """Replace the password; other sessions end, this one stays. Personal access tokens stay
    too unless `revoke_personal_tokens` (scripts keep working after a routine change)."""
    user = await get_user(session, user_id)
    if user.password_hash is None:
        raise WrongPassword("This account has no password; set one with a password reset.")
    await _confirm_secret(session, ctx, user, client, password=current_password, code=None)
    await set_password(ctx, user, new_password)
    await repo.revoke_tokens(
        session,
        user_id,
        kind=None if revoke_personal_tokens else "session",
        keep=current_token,
    )
    await record_event(
        session,
        ctx,
        user_id,
        "password_changed",
        client,
        personal_tokens_revoked=revoke_personal_tokens,
    )


async def reauthenticate(
    session: AsyncSession,
    ctx: AccountsContext,
    user_id: uuid.UUID,
    *,
    password: str | None,
    code: str | None,
    client: Client,
) -> None:
    """Proof of presence before destructive actions: the password, or a fresh login code.
    Throttled like a login."""
    user = await get_user(session, user_id)
    if user.password_hash is not None and password is None:
        raise WrongPassword("Enter your password to confirm.")
    if user.password_hash is None and code is None:
        raise WrongPassword("Request a sign-in code and enter it to confirm.")
    await _confirm_secret(session, ctx, user, client, password=password, code=code)


async def _confirm_secret(
    session: AsyncSession,
    ctx: AccountsContext,
    user: User,
    client: Client,
    *,
    password: str | None,
    code: str | None,
) -> None:
    """Check the user's password (or, for a code-only account, a login code) under the
    login's counters: the password is one secret, whichever door the guesses come through,
    so they share the account's backoff (and the address's)."""
    keys = derive_throttle_keys(ctx, ctx.email_of(user), client)
    async with guarded_attempt(session, ctx, keys):
        if user.password_hash is not None:
            matches, _ = await verify_password(password or "", user.password_hash)
            if not matches:
                raise WrongPassword("The password is not correct.")
        else:
            await consume_code(session, ctx, user.id, "login", code or "")
    await clear_account_throttle(session, keys)


async def deactivate_self(
    session: AsyncSession, ctx: AccountsContext, user_id: uuid.UUID, client: Client
) -> None:
    """Deactivate my account: every token ends; signing in again reactivates it."""
    await repo.update_user(session, user_id, is_active=False, deactivated_by="self")
    await repo.revoke_tokens(session, user_id)
    await record_event(session, ctx, user_id, "deactivated", client, by="self")


async def delete_account(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Delete the account and everything it owns, the job queue's mentions of it included,
    in one transaction."""
    audit_rows = await repo.delete_user(session, user_id)
    jobs = await db_jobs.forget_user_jobs(session, user_id)
    _log.info("account_deleted", user_id=str(user_id), jobs_forgotten=jobs, audit_rows=audit_rows)

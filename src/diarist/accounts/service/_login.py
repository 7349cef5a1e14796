"""Registration and sign-in, with a password or an emailed code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import repository as repo
from diarist.accounts.errors import (
    AccountInactive,
    EmailNotVerified,
    EmailTaken,
    InvalidCredentials,
)
from diarist.accounts.passwords import check_password_policy, hash_password, verify_password
from diarist.accounts.personal_data import USER_EMAIL
from diarist.accounts.schemas import Preferences
from diarist.accounts.service._codes import issue_code_mail, verify_code_for_email
from diarist.accounts.service._context import (
    AccountsContext,
    Client,
    Issued,
    Mail,
    normalize_email,
)
from diarist.accounts.service._events import record_event
from diarist.accounts.service._throttle import (
    clear_account_throttle,
    derive_throttle_keys,
    guarded_attempt,
)
from diarist.accounts.service._tokens import issue_session
from diarist.db.engine import act_as
from diarist.models import User


async def register(
    session: AsyncSession,
    ctx: AccountsContext,
    *,
    email: str,
    name: str,
    password: str | None,
    client: Client,
) -> tuple[User, Mail | None]:
    """Create an account (password, or code-only without one); maybe a verification mail."""
    email = normalize_email(email)
    name = name.strip()
    hashed = None
    if password is not None:
        check_password_policy(
            password, min_length=ctx.settings.auth.password_min_length, context=[email, name]
        )
        hashed = await hash_password(password)
    user = await insert_account(
        session,
        ctx,
        email,
        name=name,
        password_hash=hashed,
        auth_provider="email" if hashed else "otp",
    )
    user_id = user.id
    await record_event(session, ctx, user_id, "register", client)
    mail = None
    if ctx.settings.require_email_verification:
        mail = await issue_code_mail(session, ctx, user_id, email, "verify_email")
    return user, mail


async def insert_account(
    session: AsyncSession, ctx: AccountsContext, email: str, **columns: Any
) -> User:
    """A new user with this (normalised) address, sealed, as the tenant from now on; EmailTaken
    if an account has it."""
    user_id = await repo.claim_new_user_id(session)
    session.info["user_id"] = user_id
    try:
        return await repo.insert_user(
            session,
            User(
                id=user_id,
                email_sealed=ctx.personal.seal(USER_EMAIL, email),
                email_index=ctx.personal.email_index(email),
                preferences=Preferences().model_dump(mode="json"),
                **columns,
            ),
        )
    except IntegrityError as exc:  # the unit of work rolls back
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        if constraint == "uq_users_email_index":
            raise EmailTaken("An account with this email already exists.") from None
        raise


async def login(
    session: AsyncSession, ctx: AccountsContext, *, email: str, password: str, client: Client
) -> Issued:
    """Password login. Unknown email and wrong password answer alike, at the same cost."""
    email = normalize_email(email)
    keys = derive_throttle_keys(ctx, email, client)
    async with guarded_attempt(session, ctx, keys):
        account = await repo.find_account(session, ctx.personal.email_index(email))
        hashed = account.password_hash if account else None
        matches, upgraded = await verify_password(password, hashed)
        if account is None or not matches:
            if account is not None:
                await act_as(session, account.user_id)
                await record_event(session, ctx, account.user_id, "failed_login", client)
            raise InvalidCredentials()
    await act_as(session, account.user_id)
    if upgraded is not None:  # an imported bcrypt hash, or older Argon2 parameters
        await repo.set_password_hash(session, account.user_id, upgraded)
    return await complete_login(session, ctx, account, client, keys, method="password")


async def complete_login(
    session: AsyncSession,
    ctx: AccountsContext,
    account: repo.AccountLookup,
    client: Client,
    keys: list[tuple[str, bytes]],
    *,
    method: str,
    **details: Any,
) -> Issued:
    """Sign in an account whose credentials were checked: reactivate it if its owner had
    deactivated it, refuse an unconfirmed address where one is required, issue a session."""
    user_id = account.user_id
    if not account.is_active:
        if account.deactivated_by != "self":
            raise AccountInactive("This account was deactivated by an administrator.")
        await repo.update_user(session, user_id, is_active=True, deactivated_by=None)
        await record_event(session, ctx, user_id, "reactivated", client)
    verified = account.email_verified or method == "code"  # a code proves the mailbox
    if ctx.settings.require_email_verification and not verified:
        raise EmailNotVerified("Confirm your email address with the code we sent first.")
    if method == "code" and not account.email_verified:
        await repo.update_user(session, user_id, email_verified_at=func.now())
    await clear_account_throttle(session, keys)
    await repo.touch_login(session, user_id, ctx.clock.now())
    issued = await issue_session(session, ctx, user_id, client)
    await record_event(session, ctx, user_id, "login", client, method=method, **details)
    return issued


async def login_with_code(
    session: AsyncSession, ctx: AccountsContext, *, email: str, code: str, client: Client
) -> Issued:
    """Sign in with an emailed code; a code-only account's one way in."""
    account, keys = await verify_code_for_email(session, ctx, email, "login", code, client)
    return await complete_login(session, ctx, account, client, keys, method="code")

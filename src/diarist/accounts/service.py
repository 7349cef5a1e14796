"""The rules of accounts: registration, login (password or emailed code), sessions, tokens,
password change and reset, verification, profile, deactivation and deletion.

Services never commit; failed logins raise errors that keep their writes (counters, events).
Nothing here logs a password, token or code.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import email_validator
import structlog
from pydantic import ValidationError
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import preferences as preferences_api
from diarist.accounts import repository as repo
from diarist.accounts.errors import (
    AccountInactive,
    CodeExpired,
    EmailNotVerified,
    EmailTaken,
    InvalidCode,
    InvalidCredentials,
    InvalidEmail,
    SessionNotFound,
    TokenNotFound,
    TooManyAttempts,
    WrongPassword,
)
from diarist.accounts.mailer import Mailer, build_mailer
from diarist.accounts.passwords import check_password_policy, hash_password, verify_password
from diarist.accounts.schemas import Preferences
from diarist.accounts.secrets import PAT_PREFIX, SESSION_PREFIX, Keyring, new_code, new_token
from diarist.accounts.secrets import token_digest as digest_token
from diarist.config import Settings
from diarist.db.engine import act_as
from diarist.errors import DiaristError, NotFound, Unprocessable
from diarist.kit.clock import Clock, SystemClock
from diarist.kit.pagination import InvalidCursor, decode_cursor, encode_cursor
from diarist.models import AuthCode, AuthToken, SecurityEvent, User

_log = structlog.get_logger("diarist.accounts")
# A new code for the same purpose is not mailed again within this many seconds (mail bombing).
_CODE_RESEND_S = 30


@dataclass(frozen=True)
class Client:
    """Who is asking, as far as the request tells."""

    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class AccountsContext:
    """What the account rules need besides the session: settings, keys, mail and time."""

    settings: Settings
    keyring: Keyring
    mailer: Mailer
    clock: Clock

    @classmethod
    def from_settings(cls, settings: Settings) -> AccountsContext:
        """The production context: keys from the secret key, the configured mailer, real time."""
        return cls(
            settings=settings,
            keyring=Keyring(settings.checked_secret_key()),
            mailer=build_mailer(settings.mail),
            clock=SystemClock(),
        )


@dataclass(frozen=True)
class Issued:
    token: str
    token_id: uuid.UUID
    expires_at: datetime | None


@dataclass(frozen=True)
class Mail:
    """A message to send after the transaction commits (so that timing reveals no account)."""

    to: str
    subject: str
    body: str


class InvalidPreferences(Unprocessable):
    code = "invalid_preferences"
    title = "Invalid preferences"


def normalize_email(raw: str) -> str:
    """Trimmed, validated, lower-cased: the one form stored and compared."""
    try:
        checked = email_validator.validate_email(raw.strip(), check_deliverability=False)
    except email_validator.EmailNotValidError:
        raise InvalidEmail("This is not a valid email address.") from None
    return checked.normalized.lower()


# --- throttling -------------------------------------------------------------------------------


def backoff_seconds(failures: int, free: int, base: float, cap: float) -> float:
    """No wait for the first `free` failures, then base, 2·base, 4·base … up to `cap`."""
    if failures <= free:
        return 0.0
    return float(min(cap, base * 2 ** (failures - free - 1)))


def _throttle_keys(ctx: AccountsContext, email: str, client: Client) -> list[tuple[str, bytes]]:
    keys = [("account", ctx.keyring.identifier_digest("account", email))]
    if client.ip:
        keys.append(("ip", ctx.keyring.identifier_digest("ip", client.ip)))
    return keys


async def _check_throttle(
    session: AsyncSession, ctx: AccountsContext, keys: list[tuple[str, bytes]]
) -> None:
    now = ctx.clock.now()
    wait = 0.0
    for kind, key in keys:  # always account before address: one lock order for everyone
        state = await repo.throttle_lock(session, kind, key, now)
        if state.blocked_until is not None and state.blocked_until > now:
            wait = max(wait, (state.blocked_until - now).total_seconds())
    if wait > 0:
        raise TooManyAttempts(wait)


async def _record_failure(
    session: AsyncSession, ctx: AccountsContext, keys: list[tuple[str, bytes]]
) -> None:
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


async def _clear_account_throttle(session: AsyncSession, keys: list[tuple[str, bytes]]) -> None:
    # The account's counter goes; an address's stays while it holds failures on others.
    for kind, key in keys:
        await repo.throttle_clear(session, kind, key, only_if_clean=kind == "ip")


# --- events and tokens ------------------------------------------------------------------------


async def record_event(
    session: AsyncSession,
    ctx: AccountsContext,
    user_id: uuid.UUID,
    event_type: str,
    client: Client | None = None,
    **details: Any,
) -> None:
    """Append to the user's security log; address and user agent only as keyed hashes."""
    await repo.insert_event(
        session,
        SecurityEvent(
            user_id=user_id,
            event_type=event_type,
            ip_hash=ctx.keyring.audit_digest(client.ip) if client else None,
            user_agent_hash=ctx.keyring.audit_digest(client.user_agent) if client else None,
            details=details,
        ),
    )
    _log.info("security_event", event_type=event_type, user_id=str(user_id))


async def _issue_session(
    session: AsyncSession, ctx: AccountsContext, user_id: uuid.UUID, client: Client
) -> Issued:
    auth = ctx.settings.auth
    token = new_token(SESSION_PREFIX)
    row = await repo.insert_token(
        session,
        AuthToken(
            user_id=user_id,
            kind="session",
            scope="read_write",
            token_hash=digest_token(token),
            ip_address=client.ip,
            user_agent=(client.user_agent or "")[:500] or None,
            expires_at=func.now() + timedelta(days=auth.session_idle_days),
            absolute_expires_at=func.now() + timedelta(days=auth.session_absolute_days),
        ),
    )
    return Issued(token=token, token_id=row.id, expires_at=row.expires_at)


# --- registration and login -------------------------------------------------------------------


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
    user_id = await repo.claim_new_user_id(session)
    session.info["user_id"] = user_id
    try:
        user = await repo.insert_user(
            session,
            User(
                id=user_id,
                email=email,
                name=name,
                password_hash=hashed,
                auth_provider="email" if hashed else "otp",
                preferences=Preferences().model_dump(),
            ),
        )
    except IntegrityError as exc:  # the unit of work rolls back
        if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) == "uq_users_email":
            raise EmailTaken("An account with this email already exists.") from None
        raise
    await record_event(session, ctx, user_id, "register", client)
    mail = None
    if ctx.settings.require_email_verification:
        mail = await _new_code_mail(session, ctx, user_id, email, "verify_email")
    return user, mail


async def login(
    session: AsyncSession, ctx: AccountsContext, *, email: str, password: str, client: Client
) -> Issued:
    """Password login. Unknown email and wrong password answer alike, at the same cost."""
    email = normalize_email(email)
    keys = _throttle_keys(ctx, email, client)
    await _check_throttle(session, ctx, keys)
    account = await repo.find_account(session, email)
    matches, upgraded = await verify_password(password, account.password_hash if account else None)
    if account is None or not matches:
        await _record_failure(session, ctx, keys)
        if account is not None:
            await act_as(session, account.user_id)
            await record_event(session, ctx, account.user_id, "failed_login", client)
        raise InvalidCredentials()
    await act_as(session, account.user_id)
    if upgraded is not None:  # an imported bcrypt hash, or older Argon2 parameters
        await repo.set_password_hash(session, account.user_id, upgraded)
    return await _complete_login(session, ctx, account, client, keys, method="password")


async def _complete_login(
    session: AsyncSession,
    ctx: AccountsContext,
    account: repo.AccountLookup,
    client: Client,
    keys: list[tuple[str, bytes]],
    *,
    method: str,
) -> Issued:
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
    await _clear_account_throttle(session, keys)
    await repo.touch_login(session, user_id, ctx.clock.now())
    issued = await _issue_session(session, ctx, user_id, client)
    await record_event(session, ctx, user_id, "login", client, method=method)
    return issued


# --- emailed codes ----------------------------------------------------------------------------

_CODE_MAILS = {
    "login": ("Your diarist sign-in code", "Your sign-in code is {code}."),
    "verify_email": ("Confirm your email for diarist", "Your confirmation code is {code}."),
    "reset_password": ("Reset your diarist password", "Your password reset code is {code}."),
}


async def _new_code_mail(
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
    account = await repo.find_account(session, email)
    if account is None:
        return None
    if purpose == "login" and account.is_active is False and account.deactivated_by != "self":
        return None
    await act_as(session, account.user_id)
    return await _new_code_mail(session, ctx, account.user_id, email, purpose)


async def _consume_code(
    session: AsyncSession, ctx: AccountsContext, user_id: uuid.UUID, purpose: str, code: str
) -> None:
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


async def _verify_code_for(
    session: AsyncSession,
    ctx: AccountsContext,
    email: str,
    purpose: str,
    code: str,
    client: Client,
) -> tuple[repo.AccountLookup, list[tuple[str, bytes]]]:
    """Check a code sent to `email`, throttled like a password; unknown accounts answer alike."""
    email = normalize_email(email)
    keys = _throttle_keys(ctx, email, client)
    await _check_throttle(session, ctx, keys)
    account = await repo.find_account(session, email)
    if account is None:
        await _record_failure(session, ctx, keys)
        raise InvalidCode()
    await act_as(session, account.user_id)
    try:
        await _consume_code(session, ctx, account.user_id, purpose, code)
    except (InvalidCode, CodeExpired):
        await _record_failure(session, ctx, keys)
        raise
    return account, keys


async def login_with_code(
    session: AsyncSession, ctx: AccountsContext, *, email: str, code: str, client: Client
) -> Issued:
    account, keys = await _verify_code_for(session, ctx, email, "login", code, client)
    return await _complete_login(session, ctx, account, client, keys, method="code")


async def verify_email(
    session: AsyncSession, ctx: AccountsContext, *, email: str, code: str, client: Client
) -> None:
    account, keys = await _verify_code_for(session, ctx, email, "verify_email", code, client)
    await repo.update_user(session, account.user_id, email_verified_at=func.now())
    await _clear_account_throttle(session, keys)
    await record_event(session, ctx, account.user_id, "email_verified", client)


async def reset_password(
    session: AsyncSession,
    ctx: AccountsContext,
    *,
    email: str,
    code: str,
    new_password: str,
    client: Client,
) -> None:
    """Set a new password with an emailed code; every session ends (tokens stay)."""
    normalized = normalize_email(email)
    # Checked before the account is looked at, so the answer reveals nothing about it.
    check_password_policy(
        new_password, min_length=ctx.settings.auth.password_min_length, context=[normalized]
    )
    account, keys = await _verify_code_for(session, ctx, normalized, "reset_password", code, client)
    hashed = await hash_password(new_password)
    await repo.update_user(
        session, account.user_id, password_hash=hashed, email_verified_at=func.now()
    )
    await repo.revoke_tokens(session, account.user_id, kind="session")
    await _clear_account_throttle(session, keys)
    await record_event(session, ctx, account.user_id, "password_reset", client)


# --- the signed-in user -----------------------------------------------------------------------


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repo.get_user(session, user_id)
    if user is None:  # the token resolved, so RLS and the row agree; this is a race with delete
        raise SessionNotFound("The account no longer exists.")
    return user


def merge_preferences(current: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a partial preferences document section by section, then validate the whole."""
    merged = {**Preferences().model_dump(), **current}
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    try:
        return Preferences.model_validate(merged).model_dump()
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


async def _set_password(ctx: AccountsContext, user: User, new_password: str) -> None:
    """Check the policy (against the user's email and name) and store the new hash; a
    code-only account becomes a password account."""
    check_password_policy(
        new_password,
        min_length=ctx.settings.auth.password_min_length,
        context=[user.email, user.name],
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
) -> None:
    """Replace the password; other sessions end, this one stays."""
    user = await get_user(session, user_id)
    matches, _ = await verify_password(current_password, user.password_hash)
    if not matches:
        raise WrongPassword("The current password is not correct.")
    await _set_password(ctx, user, new_password)
    await repo.revoke_tokens(session, user_id, kind="session", keep=current_token)
    await record_event(session, ctx, user_id, "password_changed", client)


async def reauthenticate(
    session: AsyncSession,
    ctx: AccountsContext,
    user_id: uuid.UUID,
    *,
    password: str | None,
    code: str | None,
) -> None:
    """Proof of presence before destructive actions: the password, or a fresh login code."""
    user = await get_user(session, user_id)
    if user.password_hash is not None:
        matches, _ = await verify_password(password or "", user.password_hash)
        if not matches:
            raise WrongPassword("Enter your password to confirm.")
        return
    if code is None:
        raise WrongPassword("Request a sign-in code and enter it to confirm.")
    await _consume_code(session, ctx, user_id, "login", code)


async def list_sessions(session: AsyncSession, user_id: uuid.UUID) -> list[AuthToken]:
    return await repo.list_tokens(session, user_id, "session")


_REVOCATION: dict[str, tuple[type[DiaristError], str, str]] = {
    "session": (SessionNotFound, "No such active session.", "session_revoked"),
    "pat": (TokenNotFound, "No such active token.", "token_revoked"),
}


async def revoke_token(
    session: AsyncSession,
    ctx: AccountsContext,
    user_id: uuid.UUID,
    token_id: uuid.UUID,
    kind: str,
    client: Client,
) -> None:
    """Revoke one of my sessions or personal access tokens."""
    missing, detail, event = _REVOCATION[kind]
    if not await repo.revoke_tokens(session, user_id, token_id=token_id, kind=kind):
        raise missing(detail)
    await record_event(session, ctx, user_id, event, client, token_id=str(token_id))


async def revoke_other_sessions(
    session: AsyncSession,
    ctx: AccountsContext,
    user_id: uuid.UUID,
    current_token: uuid.UUID,
    client: Client,
) -> int:
    count = await repo.revoke_tokens(session, user_id, kind="session", keep=current_token)
    await record_event(session, ctx, user_id, "session_revoked", client, count=count)
    return count


async def logout(
    session: AsyncSession,
    ctx: AccountsContext,
    user_id: uuid.UUID,
    token_id: uuid.UUID,
    client: Client,
) -> None:
    """End the session (or revoke the token) the request was made with."""
    await repo.revoke_tokens(session, user_id, token_id=token_id)
    await record_event(session, ctx, user_id, "logout", client)


async def create_pat(
    session: AsyncSession,
    ctx: AccountsContext,
    user_id: uuid.UUID,
    *,
    name: str,
    scope: str,
    expires_in_days: int | None,
    client: Client,
) -> tuple[AuthToken, str]:
    """A personal access token for scripts and the CLI; the token is returned only here."""
    token = new_token(PAT_PREFIX)
    row = await repo.insert_token(
        session,
        AuthToken(
            user_id=user_id,
            kind="pat",
            name=name.strip(),
            scope=scope,
            token_hash=digest_token(token),
            expires_at=(func.now() + timedelta(days=expires_in_days)) if expires_in_days else None,
        ),
    )
    await record_event(session, ctx, user_id, "token_created", client, token_id=str(row.id))
    return row, token


async def list_pats(session: AsyncSession, user_id: uuid.UUID) -> list[AuthToken]:
    return await repo.list_tokens(session, user_id, "pat")


async def list_security_events(
    session: AsyncSession, user_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[list[SecurityEvent], str | None]:
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


async def deactivate_self(
    session: AsyncSession, ctx: AccountsContext, user_id: uuid.UUID, client: Client
) -> None:
    """Deactivate my account: every token ends; signing in again reactivates it."""
    await repo.update_user(session, user_id, is_active=False, deactivated_by="self")
    await repo.revoke_tokens(session, user_id)
    await record_event(session, ctx, user_id, "deactivated", client, by="self")


async def delete_account(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Delete the account and everything it owns."""
    await repo.delete_user(session, user_id)
    _log.info("account_deleted", user_id=str(user_id))


# --- administration (system role: `diarist user ...`) -------------------------------------------


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "User not found"


async def _admin_user(session: AsyncSession, email: str) -> User:
    user = await repo.find_user_by_email(session, normalize_email(email))
    if user is None:
        raise UserNotFound(f"No account with the email {normalize_email(email)}.")
    await act_as(session, user.id)
    return user


async def list_users(session: AsyncSession) -> list[User]:
    return await repo.list_users(session)


async def set_active(
    session: AsyncSession, ctx: AccountsContext, email: str, *, active: bool
) -> User:
    """Deactivate (ending every token) or reactivate an account as an administrator."""
    user = await _admin_user(session, email)
    user.is_active = active
    user.deactivated_by = None if active else "admin"
    if not active:
        await repo.revoke_tokens(session, user.id)
    await record_event(
        session, ctx, user.id, "reactivated" if active else "deactivated", by="admin"
    )
    await session.flush()
    return user


async def admin_reset_password(
    session: AsyncSession, ctx: AccountsContext, email: str, new_password: str
) -> None:
    """Set a password for a user who cannot receive mail; their sessions end."""
    user = await _admin_user(session, email)
    await _set_password(ctx, user, new_password)
    await repo.revoke_tokens(session, user.id, kind="session")
    await record_event(session, ctx, user.id, "password_reset", by="admin")

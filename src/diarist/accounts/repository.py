"""Every query of the accounts domain.

Under the application role these run with row-level security: a user's rows are visible only
once the tenant is set (`act_as`, or `resolve_token`, which sets it in the same statement).
The two SECURITY DEFINER functions are the only way to reach an account before that.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.db.pipeline import Statement
from diarist.kit.middleware import current_request_id
from diarist.models import AuthCode, AuthThrottle, AuthToken, SecurityEvent, User, UserIdentity


@dataclass(frozen=True)
class AccountLookup:
    user_id: uuid.UUID
    password_hash: str | None
    is_active: bool
    deactivated_by: str | None
    email_verified: bool


@dataclass(frozen=True)
class ResolvedToken:
    token_id: uuid.UUID
    user_id: uuid.UUID
    kind: str
    scope: str
    preferences: dict[str, Any]
    # Its recorded activity is more than a minute old: touch it after the response.
    needs_touch: bool


async def find_account(session: AsyncSession, email_index: bytes) -> AccountLookup | None:
    """The login step's view of an account, by its address' blind index (SECURITY DEFINER)."""
    row = (
        await session.execute(
            text("SELECT * FROM auth_find_account(:email_index)"), {"email_index": email_index}
        )
    ).one_or_none()
    return AccountLookup(*row) if row else None


async def find_identity(session: AsyncSession, issuer: str, subject: str) -> AccountLookup | None:
    """The account an OpenID Connect identity is linked to (SECURITY DEFINER)."""
    row = (
        await session.execute(
            text("SELECT * FROM auth_find_identity(:issuer, :subject)"),
            {"issuer": issuer, "subject": subject},
        )
    ).one_or_none()
    return AccountLookup(*row) if row else None


async def insert_identity(session: AsyncSession, identity: UserIdentity) -> UserIdentity:
    session.add(identity)
    await session.flush()
    await session.refresh(identity)
    return identity


async def list_identities(session: AsyncSession, user_id: uuid.UUID) -> list[UserIdentity]:
    query = select(UserIdentity).where(UserIdentity.user_id == user_id).order_by(UserIdentity.id)
    return list((await session.scalars(query)).all())


async def delete_identity(
    session: AsyncSession, user_id: uuid.UUID, identity_id: uuid.UUID
) -> UserIdentity | None:
    query = (
        delete(UserIdentity)
        .where(UserIdentity.user_id == user_id, UserIdentity.id == identity_id)
        .returning(UserIdentity)
    )
    return (await session.scalars(query)).one_or_none()


async def touch_identity(
    session: AsyncSession, user_id: uuid.UUID, issuer: str, subject: str, when: datetime
) -> None:
    await session.execute(
        update(UserIdentity)
        .where(
            UserIdentity.user_id == user_id,
            UserIdentity.issuer == issuer,
            UserIdentity.subject == subject,
        )
        .values(last_used_at=when)
    )


# The token check as the first statement of a hot read (db.pipeline), in psycopg's style; it
# also tells the transaction the request's id (the audit trail's request_id).
AUTH_RESOLVE_SQL = (
    "SELECT t.* FROM set_config('diarist.request_id', %(request_id)s, true) r,"
    " auth_resolve_token(%(digest)s) t"
)


# The acting user's profile, read under their tenant in the same round trip as the check.
_MY_PROFILE_SQL = (
    "SELECT id, email_sealed, name, auth_provider, is_active, email_verified_at, preferences,"
    " created_at, last_login_at FROM users WHERE id = diarist_current_user_id()"
)
MY_PROFILE = Statement(_MY_PROFILE_SQL, {})


async def resolve_token(session: AsyncSession, digest: bytes) -> ResolvedToken | None:
    """Check a bearer token, set its user as the tenant and read the user's preferences, in
    one round trip that writes nothing."""
    row = (
        await session.execute(
            text(
                "SELECT t.* FROM set_config('diarist.request_id', :request_id, true) r,"
                " auth_resolve_token(:digest) t"
            ),
            {"digest": digest, "request_id": current_request_id()},
        )
    ).one_or_none()
    return ResolvedToken(*row) if row else None


async def touch_token(session: AsyncSession, token_id: uuid.UUID, idle: timedelta) -> None:
    """Record a token's activity (and slide a session's expiry), at most once a minute."""
    await session.execute(
        text("SELECT auth_touch_token(:token, :idle)"), {"token": token_id, "idle": idle}
    )


async def claim_new_user_id(session: AsyncSession) -> uuid.UUID:
    """A fresh uuidv7, already set as the tenant so the new user's rows pass RLS."""
    value = await session.scalar(
        text("SELECT set_config('diarist.user_id', uuidv7()::text, true)::uuid")
    )
    assert isinstance(value, uuid.UUID)
    return value


async def insert_user(session: AsyncSession, user: User) -> User:
    session.add(user)
    await session.flush()
    await session.refresh(user)
    return user


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def touch_login(session: AsyncSession, user_id: uuid.UUID, when: datetime) -> None:
    await session.execute(update(User).where(User.id == user_id).values(last_login_at=when))


async def set_password_hash(session: AsyncSession, user_id: uuid.UUID, hashed: str) -> None:
    await session.execute(update(User).where(User.id == user_id).values(password_hash=hashed))


async def insert_token(session: AsyncSession, token: AuthToken) -> AuthToken:
    session.add(token)
    await session.flush()
    await session.refresh(token)
    return token


async def list_tokens(session: AsyncSession, user_id: uuid.UUID, kind: str) -> list[AuthToken]:
    """Live tokens of one kind, newest first."""
    now = func.now()
    query = (
        select(AuthToken)
        .where(
            AuthToken.user_id == user_id,
            AuthToken.kind == kind,
            AuthToken.revoked_at.is_(None),
            (AuthToken.expires_at.is_(None)) | (AuthToken.expires_at > now),
            (AuthToken.absolute_expires_at.is_(None)) | (AuthToken.absolute_expires_at > now),
        )
        .order_by(AuthToken.id.desc())
    )
    return list((await session.scalars(query)).all())


async def revoke_tokens(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    token_id: uuid.UUID | None = None,
    kind: str | None = None,
    keep: uuid.UUID | None = None,
) -> int:
    """Revoke one token, or all of a kind (except `keep`); returns how many were live."""
    query = update(AuthToken).where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
    if token_id is not None:
        query = query.where(AuthToken.id == token_id)
    if kind is not None:
        query = query.where(AuthToken.kind == kind)
    if keep is not None:
        query = query.where(AuthToken.id != keep)
    result = await session.execute(query.values(revoked_at=func.now()))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def replace_code(session: AsyncSession, code: AuthCode) -> None:
    """Store a new code, retiring older unused ones of the same purpose."""
    await session.execute(
        delete(AuthCode).where(
            AuthCode.user_id == code.user_id,
            AuthCode.purpose == code.purpose,
            AuthCode.consumed_at.is_(None),
        )
    )
    session.add(code)
    await session.flush()


async def latest_code(session: AsyncSession, user_id: uuid.UUID, purpose: str) -> AuthCode | None:
    """The newest unconsumed code, locked so that concurrent guesses count one by one."""
    query = (
        select(AuthCode)
        .where(
            AuthCode.user_id == user_id,
            AuthCode.purpose == purpose,
            AuthCode.consumed_at.is_(None),
        )
        .order_by(AuthCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    return (await session.scalars(query)).first()


async def lock_event_chain(
    session: AsyncSession, user_id: uuid.UUID
) -> tuple[bytes | None, str | None, dict[str, Any] | None]:
    """Hold the user's security-log chain until the transaction ends (one writer at a time)
    and return its last event's signature, type and details."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"security-events:{user_id}"},
    )
    found = (
        await session.execute(
            select(SecurityEvent.signature, SecurityEvent.event_type, SecurityEvent.details)
            .where(SecurityEvent.user_id == user_id)
            .order_by(SecurityEvent.id.desc())
            .limit(1)
        )
    ).one_or_none()
    if found is None:
        return None, None, None
    return bytes(found[0]) if found[0] is not None else None, found[1], found[2]


async def new_event_id(session: AsyncSession) -> uuid.UUID:
    found = await session.scalar(text("SELECT uuidv7()"))
    assert isinstance(found, uuid.UUID)
    return found


async def events_in_order(session: AsyncSession) -> list[Any]:
    """Every user's events, user by user, oldest first (the system role: `audit verify`)."""
    query = select(SecurityEvent).order_by(SecurityEvent.user_id, SecurityEvent.id)
    return list((await session.scalars(query)).all())


async def insert_event(session: AsyncSession, event: SecurityEvent) -> None:
    session.add(event)
    await session.flush()


async def list_events(
    session: AsyncSession, user_id: uuid.UUID, *, before: uuid.UUID | None, limit: int
) -> list[SecurityEvent]:
    """Newest first; ids are uuidv7, so the id alone is a stable keyset cursor."""
    query = select(SecurityEvent).where(SecurityEvent.user_id == user_id)
    if before is not None:
        query = query.where(SecurityEvent.id < before)
    query = query.order_by(SecurityEvent.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def throttle_lock(
    session: AsyncSession, kind: str, key: bytes, now: datetime
) -> AuthThrottle:
    """The counter row, created if missing and locked until the transaction ends: concurrent
    attempts on one account (or address) are decided one after another, never all at once."""
    await session.execute(
        pg_insert(AuthThrottle)
        .values(kind=kind, key_hash=key, failures=0, last_failure_at=now)
        .on_conflict_do_nothing()
    )
    query = (
        select(AuthThrottle)
        .where(AuthThrottle.kind == kind, AuthThrottle.key_hash == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).one()


async def throttle_record_failure(
    session: AsyncSession, kind: str, key: bytes, now: datetime, window: timedelta
) -> int:
    """Count one failure atomically (a stale counter restarts at 1); returns the new count."""
    insert = pg_insert(AuthThrottle).values(
        kind=kind, key_hash=key, failures=1, last_failure_at=now
    )
    statement = insert.on_conflict_do_update(
        index_elements=[AuthThrottle.kind, AuthThrottle.key_hash],
        set_={
            "failures": case(
                (AuthThrottle.last_failure_at < now - window, 1),
                else_=AuthThrottle.failures + 1,
            ),
            "last_failure_at": now,
        },
    ).returning(AuthThrottle.failures)
    return int((await session.execute(statement)).scalar_one())


async def throttle_block(
    session: AsyncSession, kind: str, key: bytes, until: datetime | None
) -> None:
    await session.execute(
        update(AuthThrottle)
        .where(AuthThrottle.kind == kind, AuthThrottle.key_hash == key)
        .values(blocked_until=until)
    )


async def throttle_forgive(session: AsyncSession, kind: str, key: bytes) -> None:
    """Take back one counted failure (an attempt counted before it was decided, then proven)."""
    await session.execute(
        update(AuthThrottle)
        .where(AuthThrottle.kind == kind, AuthThrottle.key_hash == key, AuthThrottle.failures > 0)
        .values(failures=AuthThrottle.failures - 1)
    )


async def throttle_clear(
    session: AsyncSession, kind: str, key: bytes, *, only_if_clean: bool = False
) -> None:
    """Forget a counter (`only_if_clean`: only if it holds no failures)."""
    statement = delete(AuthThrottle).where(AuthThrottle.kind == kind, AuthThrottle.key_hash == key)
    if only_if_clean:
        statement = statement.where(AuthThrottle.failures == 0)
    await session.execute(statement)


async def update_user(session: AsyncSession, user_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(User).where(User.id == user_id).values(**values))


async def delete_user(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Delete the account; every user-owned row goes with it (ON DELETE CASCADE), and so
    does its audit trail (the deletes are not added to it: audit_erasing). How many audit rows
    went."""
    await session.execute(
        text("SELECT set_config('diarist.erasing', :user_id, true)"), {"user_id": str(user_id)}
    )
    await session.execute(delete(User).where(User.id == user_id))
    forgotten = await session.scalar(text("SELECT audit_forget(:user_id)"), {"user_id": user_id})
    await session.execute(text("SELECT set_config('diarist.erasing', '', true)"))
    return int(forgotten or 0)


async def find_user_by_email(session: AsyncSession, email_index: bytes) -> User | None:
    """Cross-user lookup: finds a user only under the system role (RLS hides it otherwise)."""
    return (await session.scalars(select(User).where(User.email_index == email_index))).first()


async def list_users(session: AsyncSession) -> list[User]:
    """Every account (system role), oldest first."""
    return list((await session.scalars(select(User).order_by(User.id))).all())


# The sealed columns of each table (accounts/personal_data.py), for re-sealing them under a new
# key: the table's columns a batch reads, after the id.
RESEALED_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("email_sealed", "email_index"),
    "auth_tokens": ("ip_sealed", "user_agent_sealed"),
    "user_identities": ("email_sealed",),
}


async def sealed_batch(
    session: AsyncSession, table: str, after: uuid.UUID | None, limit: int
) -> list[tuple[Any, ...]]:
    """The next rows of `table` (system role), in id order: (id, *its sealed columns)."""
    columns = ", ".join(RESEALED_COLUMNS[table])
    where = "" if after is None else "WHERE id > :after"
    query = text(f"SELECT id, {columns} FROM {table} {where} ORDER BY id LIMIT :limit")  # noqa: S608 (names from RESEALED_COLUMNS)
    rows = await session.execute(query, {"after": after, "limit": limit})
    return [tuple(row) for row in rows]


async def update_sealed(session: AsyncSession, table: str, rows: list[dict[str, Any]]) -> None:
    """Write rows' sealed columns again: each row a dict of its id and RESEALED_COLUMNS[table]."""
    if rows:
        columns = RESEALED_COLUMNS[table]
        assignments = ", ".join(f"{name} = :{name}" for name in columns)
        query = text(f"UPDATE {table} SET {assignments} WHERE id = :id")  # noqa: S608 (names from RESEALED_COLUMNS)
        await session.execute(query, rows)

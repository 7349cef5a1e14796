"""Sessions and personal access tokens: issue, list, revoke."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import repository as repo
from diarist.accounts.errors import SessionNotFound, TokenNotFound
from diarist.accounts.personal_data import SESSION_IP, SESSION_USER_AGENT
from diarist.accounts.secrets import PAT_PREFIX, SESSION_PREFIX, new_token
from diarist.accounts.secrets import token_digest as digest_token
from diarist.accounts.service._context import AccountsContext, Client, Issued
from diarist.accounts.service._events import record_event
from diarist.errors import DiaristError
from diarist.models import AuthToken


async def issue_session(
    session: AsyncSession, ctx: AccountsContext, user_id: uuid.UUID, client: Client
) -> Issued:
    """A new session token for the user, with idle and absolute expiry."""
    auth = ctx.settings.auth
    token = new_token(SESSION_PREFIX)
    row = await repo.insert_token(
        session,
        AuthToken(
            user_id=user_id,
            kind="session",
            scope="read_write",
            token_hash=digest_token(token),
            ip_sealed=ctx.personal.seal_optional(SESSION_IP, client.ip),
            user_agent_sealed=ctx.personal.seal_optional(
                SESSION_USER_AGENT, (client.user_agent or "")[:500] or None
            ),
            expires_at=func.now() + timedelta(days=auth.session_idle_days),
            absolute_expires_at=func.now() + timedelta(days=auth.session_absolute_days),
        ),
    )
    return Issued(token=token, token_id=row.id, expires_at=row.expires_at)


async def list_sessions(session: AsyncSession, user_id: uuid.UUID) -> list[AuthToken]:
    """The user's live sessions, newest first."""
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
    *,
    revoke_personal_tokens: bool = False,
) -> int:
    """Sign out everywhere else: end every session of the user but `current_token` (and
    every personal access token too with `revoke_personal_tokens`); how many ended."""
    kind = None if revoke_personal_tokens else "session"
    count = await repo.revoke_tokens(session, user_id, kind=kind, keep=current_token)
    await record_event(
        session,
        ctx,
        user_id,
        "session_revoked",
        client,
        count=count,
        personal_tokens_revoked=revoke_personal_tokens,
    )
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
    """The user's live personal access tokens, newest first."""
    return await repo.list_tokens(session, user_id, "pat")

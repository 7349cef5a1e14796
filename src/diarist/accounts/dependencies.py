"""Request-side helpers: the authenticated principal, the client, the accounts context."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import structlog
from fastapi import BackgroundTasks, Depends, Request
from fastapi.security import HTTPBearer

from diarist.accounts import preferences
from diarist.accounts import repository as repo
from diarist.accounts.errors import InsufficientScope, NotAuthenticated
from diarist.accounts.secrets import token_digest
from diarist.accounts.service import AccountsContext, Client
from diarist.db.engine import TENANT_KEY, Database
from diarist.db.pipeline import Statement
from diarist.db.session import DatabaseDep, DbSession

_log = structlog.get_logger("diarist.accounts")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Declares the scheme in OpenAPI; parsing is ours, so that errors are problem+json.
_bearer_scheme = HTTPBearer(auto_error=False, description="A session token or a personal token.")


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    token_id: uuid.UUID
    kind: str
    scope: str


async def _touch(database: Database, token_id: uuid.UUID, idle: timedelta) -> None:
    """After the response: a read's only write, in a transaction of its own."""
    try:
        async with database.unit_of_work() as session:
            await repo.touch_token(session, token_id, idle)
    except Exception as exc:
        _log.warning("token_touch_failed", error=type(exc).__name__)


async def accounts_context(request: Request) -> AccountsContext:
    context: AccountsContext = request.app.state.accounts
    return context


async def client_info(request: Request) -> Client:
    user_agent = request.headers.get("user-agent")
    return Client(
        ip=request.client.host if request.client else None,
        user_agent=user_agent[:500] if user_agent else None,
    )


def _bearer_digest(request: Request) -> bytes:
    """The SHA-256 of the request's bearer token (401 without one)."""
    scheme, _sep, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated()
    return token_digest(token.strip())


@dataclass(frozen=True)
class PendingPrincipal:
    """A request's bearer token, not yet checked: a hot read sends its check as the first
    statement of its one round trip (`statement`), then `confirm`s what came back."""

    digest: bytes
    method: str
    database: Database
    idle: timedelta
    background: BackgroundTasks

    @property
    def statement(self) -> Statement:
        return Statement(repo.AUTH_RESOLVE_SQL, {"digest": self.digest})

    def confirm_rows(self, rows: Sequence[Any]) -> Principal:
        """`confirm` the rows of `statement` (sent by the hot read)."""
        return self.confirm(repo.ResolvedToken(*rows[0]) if rows else None)

    def confirm(self, resolved: repo.ResolvedToken | None) -> Principal:
        """The principal of a checked token: 401 when the token is not valid, 403 when a
        read-only token tries to write; its activity is recorded after the response."""
        if resolved is None:
            raise NotAuthenticated("The token is invalid, expired or revoked.")
        if resolved.needs_touch:
            self.background.add_task(_touch, self.database, resolved.token_id, self.idle)
        if resolved.scope == "read" and self.method not in _SAFE_METHODS:
            raise InsufficientScope("This token may only read.")
        return Principal(resolved.user_id, resolved.token_id, resolved.kind, resolved.scope)


async def pending_principal(
    request: Request,
    database: DatabaseDep,
    ctx: Annotated[AccountsContext, Depends(accounts_context)],
    background: BackgroundTasks,
    _: Annotated[object, Depends(_bearer_scheme)] = None,
) -> PendingPrincipal:
    return PendingPrincipal(
        digest=_bearer_digest(request),
        method=request.method,
        database=database,
        idle=timedelta(days=ctx.settings.auth.session_idle_days),
        background=background,
    )


async def current_principal(
    session: DbSession, pending: Annotated[PendingPrincipal, Depends(pending_principal)]
) -> Principal:
    """Resolve the bearer token, set the tenant and read the user's preferences in one
    statement that writes nothing; enforce read scope. The token's activity (once a minute)
    is recorded after the response."""
    resolved = await repo.resolve_token(session, pending.digest)
    principal = pending.confirm(resolved)
    assert resolved is not None  # confirmed
    session.info[TENANT_KEY] = principal.user_id
    preferences.remember_for_request(session, resolved.preferences)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
# For hot reads: the token is checked in the read's own round trip (db.pipeline).
UncheckedPrincipal = Annotated[PendingPrincipal, Depends(pending_principal)]
Accounts = Annotated[AccountsContext, Depends(accounts_context)]
ClientInfo = Annotated[Client, Depends(client_info)]

"""Request-side helpers: the authenticated principal, the client, the accounts context."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from fastapi.security import HTTPBearer

from diarist.accounts import preferences
from diarist.accounts import repository as repo
from diarist.accounts.errors import NotAuthenticated
from diarist.accounts.principal import PendingPrincipal, Principal
from diarist.accounts.secrets import token_digest
from diarist.accounts.service import AccountsContext, Client
from diarist.db.engine import TENANT_KEY, Database
from diarist.db.session import DatabaseDep, DbSession

# Declares the scheme in OpenAPI; parsing is ours, so that errors are problem+json.
_bearer_scheme = HTTPBearer(auto_error=False, description="A session token or a personal token.")


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


async def pending_principal(
    request: Request,
    database: DatabaseDep,
    ctx: Annotated[AccountsContext, Depends(accounts_context)],
    background: BackgroundTasks,
    _: Annotated[object, Depends(_bearer_scheme)] = None,
) -> PendingPrincipal:
    return pending_of(_bearer_digest(request), request, database, ctx, background)


def pending_of(
    digest: bytes,
    request: Request,
    database: Database,
    ctx: AccountsContext,
    background: BackgroundTasks,
) -> PendingPrincipal:
    """The unchecked principal of a token's digest (from the Authorization header, or the web
    app's session cookie)."""
    return PendingPrincipal(
        digest=digest,
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

"""Request-side helpers: the authenticated principal, the client, the accounts context."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

import structlog
from fastapi import BackgroundTasks, Depends, Request
from fastapi.security import HTTPBearer

from diarist.accounts import preferences
from diarist.accounts import repository as repo
from diarist.accounts.errors import InsufficientScope, NotAuthenticated
from diarist.accounts.secrets import token_digest
from diarist.accounts.service import AccountsContext, Client
from diarist.db.engine import TENANT_KEY, Database
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


async def current_principal(
    request: Request,
    session: DbSession,
    database: DatabaseDep,
    ctx: Annotated[AccountsContext, Depends(accounts_context)],
    background: BackgroundTasks,
    _: Annotated[object, Depends(_bearer_scheme)] = None,
) -> Principal:
    """Resolve the bearer token, set the tenant and read the user's preferences in one
    statement that writes nothing; enforce read scope. The token's activity (once a minute)
    is recorded after the response."""
    scheme, _sep, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated()
    resolved = await repo.resolve_token(session, token_digest(token.strip()))
    if resolved is None:
        raise NotAuthenticated("The token is invalid, expired or revoked.")
    session.info[TENANT_KEY] = resolved.user_id
    preferences.remember_for_request(session, resolved.preferences)
    if resolved.needs_touch:
        idle = timedelta(days=ctx.settings.auth.session_idle_days)
        background.add_task(_touch, database, resolved.token_id, idle)
    if resolved.scope == "read" and request.method not in _SAFE_METHODS:
        raise InsufficientScope("This token may only read.")
    return Principal(resolved.user_id, resolved.token_id, resolved.kind, resolved.scope)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
Accounts = Annotated[AccountsContext, Depends(accounts_context)]
ClientInfo = Annotated[Client, Depends(client_info)]

"""Request-side helpers: the authenticated principal, the client, the accounts context."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal

import structlog
from fastapi import BackgroundTasks, Depends, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPBearer

from diarist.accounts import export, preferences
from diarist.accounts import repository as repo
from diarist.accounts.errors import NotAuthenticated
from diarist.accounts.mailer import Mailer
from diarist.accounts.principal import PendingPrincipal, Principal
from diarist.accounts.secrets import token_digest
from diarist.accounts.service import AccountsContext, Client, Mail
from diarist.db.engine import TENANT_KEY, Database
from diarist.db.session import DatabaseDep, DbSession
from diarist.errors import DiaristError

_log = structlog.get_logger("diarist.accounts")

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


async def _send(mailer: Mailer, mail: Mail) -> None:
    try:
        await mailer.send(mail.to, mail.subject, mail.body)
    except DiaristError as exc:
        _log.warning("mail_not_sent", code=exc.code)


def send_after_response(
    background: BackgroundTasks, ctx: AccountsContext, mail: Mail | None
) -> None:
    """Send `mail` (if any) after the response, so that an existing account does not answer
    slower than a missing one."""
    if mail is not None:
        background.add_task(_send, ctx.mailer, mail)


ExportFormat = Literal["json", "zip", "dayone", "markdown"]


def export_response(
    state: Any, database: Database, user_id: uuid.UUID, format: ExportFormat
) -> StreamingResponse:
    """The user's export in `format`, streamed as a download: all their data as one JSON
    document (`zip`: compressed, with the attachments' files), or their journal to take
    elsewhere (`dayone`, `markdown`: the journal's exporter, which the app hands over in
    `state.journal_export`, since accounts sits below the journal)."""
    name = f"diarist-export-{user_id}"
    if format in ("dayone", "markdown"):
        return StreamingResponse(
            state.journal_export(database, user_id, format),
            media_type="application/zip",
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": f'attachment; filename="{name}-{format}.zip"',
            },
        )
    if format == "zip":
        return StreamingResponse(
            export.zip_chunks(database, user_id, state.accounts.personal, state.attachment_files),
            media_type="application/zip",
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": f'attachment; filename="{name}.zip"',
            },
        )
    return StreamingResponse(
        export.json_chunks(database, user_id, state.accounts.personal),
        media_type="application/json",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{name}.json"',
        },
    )

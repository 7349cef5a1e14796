"""HTTP routes of `/api/v1/me`: my profile, password, security log, deactivation, deletion
and export."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from diarist.accounts import service as accounts_service
from diarist.accounts.dependencies import (
    Accounts,
    ClientInfo,
    CurrentPrincipal,
    UncheckedPrincipal,
    export_response,
)
from diarist.accounts.router._common import PROBLEMS, no_content_no_store, user_out
from diarist.accounts.schemas import (
    PasswordChangeIn,
    ProfilePatch,
    ReauthIn,
    SecurityEventOut,
    SecurityEventPage,
    UserOut,
)
from diarist.db.session import DatabaseDep, DbSession

me_router = APIRouter(prefix="/api/v1/me", tags=["me"])


@me_router.get("", response_model=UserOut, responses=PROBLEMS)
async def get_me(session: DbSession, ctx: Accounts, pending: UncheckedPrincipal) -> UserOut:
    """My profile and preferences."""
    return user_out(await accounts_service.get_my_profile_checked(session, pending), ctx.personal)


@me_router.patch("", response_model=UserOut, responses=PROBLEMS)
async def update_me(
    body: ProfilePatch, session: DbSession, ctx: Accounts, me: CurrentPrincipal
) -> UserOut:
    """Change my name or preferences (merged section by section)."""
    user = await accounts_service.update_profile(
        session, me.user_id, name=body.name, preferences=body.preferences
    )
    return user_out(user, ctx.personal)


@me_router.post("/password", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS)
async def change_password(
    body: PasswordChangeIn,
    session: DbSession,
    ctx: Accounts,
    me: CurrentPrincipal,
    client: ClientInfo,
) -> Response:
    """Change my password; my other sessions end (and my personal access tokens with
    `revoke_personal_tokens`). Wrong current passwords are throttled like logins."""
    await accounts_service.change_password(
        session,
        ctx,
        me.user_id,
        me.token_id,
        current_password=body.current_password,
        new_password=body.new_password,
        client=client,
        revoke_personal_tokens=body.revoke_personal_tokens,
    )
    return no_content_no_store()


@me_router.get("/security-events", response_model=SecurityEventPage, responses=PROBLEMS)
async def list_security_events(
    session: DbSession,
    me: CurrentPrincipal,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> SecurityEventPage:
    """My security log, newest first."""
    rows, next_cursor = await accounts_service.list_security_events(
        session, me.user_id, cursor=cursor, limit=limit
    )
    return SecurityEventPage(
        items=[SecurityEventOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@me_router.post("/deactivate", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS)
async def deactivate_me(
    body: ReauthIn, session: DbSession, ctx: Accounts, me: CurrentPrincipal, client: ClientInfo
) -> Response:
    """Deactivate my account (signing in again reactivates it)."""
    await accounts_service.reauthenticate(
        session, ctx, me.user_id, password=body.password, code=body.code, client=client
    )
    await accounts_service.deactivate_self(session, ctx, me.user_id, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me_router.delete("", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS)
async def delete_me(
    body: ReauthIn, session: DbSession, ctx: Accounts, me: CurrentPrincipal, client: ClientInfo
) -> Response:
    """Delete my account and everything it owns, after re-entering my password (throttled
    like logins)."""
    await accounts_service.reauthenticate(
        session, ctx, me.user_id, password=body.password, code=body.code, client=client
    )
    await accounts_service.delete_account(session, me.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


_EXPORT = {
    **PROBLEMS,
    200: {
        "description": "My data, as an attachment.",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
        },
        "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
    },
}


@me_router.get("/export", response_class=StreamingResponse, responses=_EXPORT)
async def export_me(
    request: Request,
    database: DatabaseDep,
    me: CurrentPrincipal,
    format: Annotated[Literal["json", "zip", "dayone", "markdown"], Query()] = "json",
) -> StreamingResponse:
    """All my data as one JSON document (`format=zip` for a compressed archive of it); or my
    journal to take elsewhere: `dayone` (a Day One JSON export, zipped) or `markdown` (a zip of
    notes with front matter). See docs/imports.md."""
    return export_response(request.app.state, database, me.user_id, format)

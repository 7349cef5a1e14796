"""HTTP routes of `/api/v1/auth`: registration, sign-in, codes, sessions and tokens."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, BackgroundTasks, Body, Response, status

from diarist.accounts import service as accounts_service
from diarist.accounts.dependencies import (
    Accounts,
    ClientInfo,
    CurrentPrincipal,
    send_after_response,
)
from diarist.accounts.personal_data import SESSION_IP, SESSION_USER_AGENT, PersonalData
from diarist.accounts.router._common import PROBLEMS, NoStore, no_content_no_store, user_out
from diarist.accounts.schemas import (
    Accepted,
    CodeLoginIn,
    EmailIn,
    LoginIn,
    PasswordResetIn,
    PatCreatedOut,
    PatCreateIn,
    PatOut,
    RegisterIn,
    RevokedOut,
    RevokeSessionsIn,
    SessionOut,
    TokenOut,
    UserOut,
)
from diarist.accounts.service import Issued
from diarist.db.session import DbSession
from diarist.models import AuthToken

_log = structlog.get_logger("diarist.accounts.router")

auth_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

_ACCEPTED = Accepted(detail="If the address belongs to an account, a code is on its way.")


def _token_out(issued: Issued) -> TokenOut:
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at)


def _session_out(token: AuthToken, current: uuid.UUID, personal: PersonalData) -> SessionOut:
    return SessionOut(
        id=token.id,
        current=token.id == current,
        ip_address=personal.open_optional(SESSION_IP, token.ip_sealed),
        user_agent=personal.open_optional(SESSION_USER_AGENT, token.user_agent_sealed),
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
    )


def _pat_fields(token: AuthToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "scope": token.scope,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
    }


@auth_router.post(
    "/register", status_code=status.HTTP_201_CREATED, response_model=UserOut, responses=PROBLEMS
)
async def register(
    body: RegisterIn, session: DbSession, ctx: Accounts, client: ClientInfo, bg: BackgroundTasks
) -> UserOut:
    """Create an account. Without a password it signs in with emailed codes only."""
    user, mail = await accounts_service.register(
        session, ctx, email=body.email, name=body.name, password=body.password, client=client
    )
    send_after_response(bg, ctx, mail)
    return user_out(user, ctx.personal)


@auth_router.post("/login", response_model=TokenOut, responses=PROBLEMS, dependencies=[NoStore])
async def login(body: LoginIn, session: DbSession, ctx: Accounts, client: ClientInfo) -> TokenOut:
    """Sign in with email and password; returns a bearer session token."""
    issued = await accounts_service.login(
        session, ctx, email=body.email, password=body.password, client=client
    )
    return _token_out(issued)


async def _accept_code_request(
    body: EmailIn,
    session: DbSession,
    ctx: Accounts,
    bg: BackgroundTasks,
    purpose: Literal["login", "verify_email", "reset_password"],
) -> Accepted:
    mail = await accounts_service.request_code(session, ctx, email=body.email, purpose=purpose)
    send_after_response(bg, ctx, mail)
    return _ACCEPTED


@auth_router.post(
    "/otp/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=PROBLEMS,
)
async def request_login_code(
    body: EmailIn, session: DbSession, ctx: Accounts, bg: BackgroundTasks
) -> Accepted:
    """Email a one-time sign-in code (the same answer whether or not the account exists)."""
    return await _accept_code_request(body, session, ctx, bg, "login")


@auth_router.post("/otp/login", response_model=TokenOut, responses=PROBLEMS, dependencies=[NoStore])
async def login_with_code(
    body: CodeLoginIn, session: DbSession, ctx: Accounts, client: ClientInfo
) -> TokenOut:
    """Sign in with an emailed code."""
    issued = await accounts_service.login_with_code(
        session, ctx, email=body.email, code=body.code, client=client
    )
    return _token_out(issued)


@auth_router.post(
    "/verify-email/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=PROBLEMS,
)
async def request_verification_code(
    body: EmailIn, session: DbSession, ctx: Accounts, bg: BackgroundTasks
) -> Accepted:
    """Email a code that confirms the address."""
    return await _accept_code_request(body, session, ctx, bg, "verify_email")


@auth_router.post("/verify-email", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS)
async def verify_email(
    body: CodeLoginIn, session: DbSession, ctx: Accounts, client: ClientInfo
) -> Response:
    """Confirm the address with the emailed code."""
    await accounts_service.verify_email(
        session, ctx, email=body.email, code=body.code, client=client
    )
    return no_content_no_store()


@auth_router.post(
    "/password-reset/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=PROBLEMS,
)
async def request_password_reset(
    body: EmailIn, session: DbSession, ctx: Accounts, bg: BackgroundTasks
) -> Accepted:
    """Email a password reset code."""
    return await _accept_code_request(body, session, ctx, bg, "reset_password")


@auth_router.post("/password-reset", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS)
async def reset_password(
    body: PasswordResetIn, session: DbSession, ctx: Accounts, client: ClientInfo
) -> Response:
    """Set a new password with the emailed code; all sessions end (and personal access tokens
    with `revoke_personal_tokens`)."""
    await accounts_service.reset_password(
        session,
        ctx,
        email=body.email,
        code=body.code,
        new_password=body.new_password,
        client=client,
        revoke_personal_tokens=body.revoke_personal_tokens,
    )
    return no_content_no_store()


@auth_router.get("/sessions", response_model=list[SessionOut], responses=PROBLEMS)
async def list_sessions(
    session: DbSession, ctx: Accounts, me: CurrentPrincipal
) -> list[SessionOut]:
    """My active sessions; the one making this request is marked `current`."""
    rows = await accounts_service.list_sessions(session, me.user_id)
    return [_session_out(row, me.token_id, ctx.personal) for row in rows]


@auth_router.delete(
    "/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS
)
async def revoke_session(
    session_id: uuid.UUID,
    session: DbSession,
    ctx: Accounts,
    me: CurrentPrincipal,
    client: ClientInfo,
) -> Response:
    """End one of my sessions."""
    await accounts_service.revoke_token(session, ctx, me.user_id, session_id, "session", client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.post("/sessions/revoke-others", response_model=RevokedOut, responses=PROBLEMS)
async def revoke_other_sessions(
    session: DbSession,
    ctx: Accounts,
    me: CurrentPrincipal,
    client: ClientInfo,
    body: Annotated[RevokeSessionsIn | None, Body()] = None,
) -> RevokedOut:
    """Sign out everywhere else: end every session but the current one, and every personal
    access token too with `revoke_personal_tokens` (the body is optional)."""
    count = await accounts_service.revoke_other_sessions(
        session,
        ctx,
        me.user_id,
        me.token_id,
        client,
        revoke_personal_tokens=body.revoke_personal_tokens if body else False,
    )
    return RevokedOut(revoked=count)


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS)
async def logout(
    session: DbSession, ctx: Accounts, me: CurrentPrincipal, client: ClientInfo
) -> Response:
    """End the session (or revoke the token) this request is made with."""
    await accounts_service.logout(session, ctx, me.user_id, me.token_id, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.get("/tokens", response_model=list[PatOut], responses=PROBLEMS)
async def list_tokens(session: DbSession, me: CurrentPrincipal) -> list[PatOut]:
    """My personal access tokens (never the tokens themselves)."""
    rows = await accounts_service.list_pats(session, me.user_id)
    return [PatOut.model_validate(_pat_fields(row)) for row in rows]


@auth_router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=PatCreatedOut,
    responses=PROBLEMS,
    dependencies=[NoStore],
)
async def create_token(
    body: PatCreateIn, session: DbSession, ctx: Accounts, me: CurrentPrincipal, client: ClientInfo
) -> PatCreatedOut:
    """Create a personal access token; the token is shown in this response only."""
    row, token = await accounts_service.create_pat(
        session,
        ctx,
        me.user_id,
        name=body.name,
        scope=body.scope,
        expires_in_days=body.expires_in_days,
        client=client,
    )
    return PatCreatedOut.model_validate({**_pat_fields(row), "token": token})


@auth_router.delete(
    "/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS
)
async def revoke_token(
    token_id: uuid.UUID, session: DbSession, ctx: Accounts, me: CurrentPrincipal, client: ClientInfo
) -> Response:
    """Revoke one of my personal access tokens."""
    await accounts_service.revoke_token(session, ctx, me.user_id, token_id, "pat", client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

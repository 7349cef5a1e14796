"""Sign up, sign in and sign out: forms on the accounts service, the session in a cookie."""

from __future__ import annotations

from typing import Any

from fastapi import BackgroundTasks, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from diarist.accounts import service as accounts_service
from diarist.accounts.dependencies import Accounts, ClientInfo, send_after_response
from diarist.accounts.schemas import CodeLoginIn, EmailIn, LoginIn, PasswordResetIn, RegisterIn
from diarist.accounts.service import Issued
from diarist.db.session import DbSession
from diarist.errors import DiaristError
from diarist.web.render import page
from diarist.web.security import (
    clear_session,
    form_cookie,
    form_token,
    remember_form_token,
    set_session,
)
from diarist.web.viewer import SignedIn, checked_form, field, pages_router, refusal, safe_next

auth_pages = pages_router()


def _form_page(
    request: Request, template: str, values: dict[str, Any], errors: list[str], status: int = 200
) -> Response:
    token = form_token(request)
    response = page(request, template, {"csrf": token, "values": values, "errors": errors}, status)
    remember_form_token(response, request, token)
    return response


def _signed_in(request: Request, issued: Issued, to: str) -> Response:
    """On to `to`, signed in with the session just issued (its token in the cookie)."""
    response = RedirectResponse(to, status_code=303)
    set_session(response, request, issued.token, issued.expires_at)
    return response


@auth_pages.get("/login")
async def login_page(
    request: Request, next: str = "/", reset: bool = False, verified: bool = False
) -> Response:
    values = {"next": safe_next(next), "reset": reset, "verified": verified}
    return _form_page(request, "login.html", values, [])


@auth_pages.post("/login")
async def login(
    request: Request, session: DbSession, ctx: Accounts, client: ClientInfo
) -> Response:
    form = await checked_form(request, form_cookie(request))
    values = {"email": field(form, "email"), "next": safe_next(form.get("next"))}
    try:
        body = LoginIn.model_validate({"email": values["email"], "password": form.get("password")})
        issued = await accounts_service.login(
            session, ctx, email=body.email, password=body.password, client=client
        )
    except (ValidationError, DiaristError) as exc:
        errors, status = await refusal(session, exc)
        return _form_page(request, "login.html", values, errors, status)
    return _signed_in(request, issued, values["next"])


@auth_pages.get("/register")
async def register_page(request: Request) -> Response:
    return _form_page(request, "register.html", {}, [])


@auth_pages.post("/register")
async def register(
    request: Request,
    session: DbSession,
    ctx: Accounts,
    client: ClientInfo,
    background: BackgroundTasks,
) -> Response:
    form = await checked_form(request, form_cookie(request))
    values = {"email": field(form, "email"), "name": field(form, "name")}
    try:
        # A password is asked for here (the API also makes code-only accounts without one).
        body = RegisterIn.model_validate({**values, "password": form.get("password", "")})
        user, mail = await accounts_service.register(
            session, ctx, email=body.email, name=body.name, password=body.password, client=client
        )
    except (ValidationError, DiaristError) as exc:
        errors, status = await refusal(session, exc)
        return _form_page(request, "register.html", values, errors, status)
    send_after_response(background, ctx, mail)
    if ctx.settings.require_email_verification:  # signed in once the address is confirmed
        confirm = {"email": body.email, "purpose": "verify_email", "action": "/verify-email"}
        return _form_page(request, "code_enter.html", confirm, [])
    issued = await accounts_service.issue_session(session, ctx, user.id, client)
    return _signed_in(request, issued, "/")


@auth_pages.post("/verify-email/confirm")
async def verify_email(
    request: Request, session: DbSession, ctx: Accounts, client: ClientInfo
) -> Response:
    form = await checked_form(request, form_cookie(request))
    values = {"email": field(form, "email"), "purpose": "verify_email", "action": "/verify-email"}
    try:
        body = CodeLoginIn.model_validate({"email": values["email"], "code": field(form, "code")})
        await accounts_service.verify_email(
            session, ctx, email=body.email, code=body.code, client=client
        )
    except (ValidationError, DiaristError) as exc:
        errors, status = await refusal(session, exc)
        return _form_page(request, "code_enter.html", values, errors, status)
    return RedirectResponse("/login?verified=1", status_code=303)


@auth_pages.post("/logout")
async def logout(
    request: Request, session: DbSession, ctx: Accounts, client: ClientInfo, me: SignedIn
) -> Response:
    await checked_form(request, me.csrf)
    await accounts_service.logout(session, ctx, me.principal.user_id, me.principal.token_id, client)
    response = RedirectResponse("/login", status_code=303)
    clear_session(response, request)
    return response


# Emailed codes: sign in without a password, or set a new one. Asking for a code answers the
# same whether the address has an account (the mail is sent after the response).
_PURPOSES = {"login": "/login/code", "reset_password": "/password-reset"}


async def _ask_code(
    request: Request,
    session: DbSession,
    ctx: Accounts,
    background: BackgroundTasks,
    purpose: str,
) -> Response:
    form = await checked_form(request, form_cookie(request))
    values = {"email": field(form, "email"), "purpose": purpose, "action": _PURPOSES[purpose]}
    try:
        body = EmailIn.model_validate({"email": values["email"]})
        mail = await accounts_service.request_code(session, ctx, email=body.email, purpose=purpose)
    except (ValidationError, DiaristError) as exc:
        errors, status = await refusal(session, exc)
        return _form_page(request, "code_request.html", values, errors, status)
    send_after_response(background, ctx, mail)
    return _form_page(request, "code_enter.html", values, [])


def _code_request_routes(purpose: str, path: str) -> None:
    """The page that asks for an address and the post that mails the code, of a purpose."""

    async def show(request: Request) -> Response:
        return _form_page(request, "code_request.html", {"purpose": purpose, "action": path}, [])

    async def ask(
        request: Request, session: DbSession, ctx: Accounts, background: BackgroundTasks
    ) -> Response:
        return await _ask_code(request, session, ctx, background, purpose)

    auth_pages.add_api_route(path, show, methods=["GET"], name=f"{purpose}_code_page")
    auth_pages.add_api_route(path, ask, methods=["POST"], name=f"{purpose}_code_ask")


for _purpose, _path in _PURPOSES.items():
    _code_request_routes(_purpose, _path)


@auth_pages.post("/login/code/verify")
async def code_login(
    request: Request, session: DbSession, ctx: Accounts, client: ClientInfo
) -> Response:
    form = await checked_form(request, form_cookie(request))
    values = {"email": field(form, "email"), "purpose": "login", "action": _PURPOSES["login"]}
    try:
        body = CodeLoginIn.model_validate({"email": values["email"], "code": field(form, "code")})
        issued = await accounts_service.login_with_code(
            session, ctx, email=body.email, code=body.code, client=client
        )
    except (ValidationError, DiaristError) as exc:
        errors, status = await refusal(session, exc)
        return _form_page(request, "code_enter.html", values, errors, status)
    return _signed_in(request, issued, "/")


@auth_pages.post("/password-reset/confirm")
async def reset(
    request: Request, session: DbSession, ctx: Accounts, client: ClientInfo
) -> Response:
    form = await checked_form(request, form_cookie(request))
    purpose = "reset_password"
    values = {"email": field(form, "email"), "purpose": purpose, "action": _PURPOSES[purpose]}
    try:
        body = PasswordResetIn.model_validate(
            {"email": values["email"], "code": field(form, "code"),
             "new_password": form.get("new_password")}
        )  # fmt: skip
        await accounts_service.reset_password(
            session, ctx, email=body.email, code=body.code, new_password=body.new_password,
            client=client,
        )  # fmt: skip
    except (ValidationError, DiaristError) as exc:
        errors, status = await refusal(session, exc)
        return _form_page(request, "code_enter.html", values, errors, status)
    return RedirectResponse("/login?reset=1", status_code=303)

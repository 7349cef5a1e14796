"""Sign up, sign in (a password, an emailed code or an OpenID Connect provider) and sign out:
forms on the accounts service, the session in a cookie."""

from __future__ import annotations

from typing import Any

from fastapi import BackgroundTasks, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from diarist.accounts import service as accounts_service
from diarist.accounts.dependencies import Accounts, ClientInfo, send_after_response
from diarist.accounts.errors import OidcFlowInvalid
from diarist.accounts.oidc import Flow, provider_error
from diarist.accounts.schemas import CodeLoginIn, EmailIn, LoginIn, PasswordResetIn, RegisterIn
from diarist.accounts.service import Issued
from diarist.db.session import DbSession
from diarist.errors import DiaristError
from diarist.web.render import page
from diarist.web.security import (
    clear_provider_flow,
    clear_session,
    csrf_matches,
    form_cookie,
    form_token,
    provider_flow,
    remember_form_token,
    set_provider_flow,
    set_session,
)
from diarist.web.viewer import (
    SignedIn,
    checked_form,
    field,
    pages_router,
    refusal,
    safe_next,
    viewer,
)

auth_pages = pages_router()


def form_page(
    request: Request, template: str, values: dict[str, Any], errors: list[str], status: int = 200
) -> Response:
    token = form_token(request)
    providers = request.app.state.accounts.providers.buttons()
    context = {"csrf": token, "values": values, "errors": errors, "providers": providers}
    response = page(request, template, context, status)
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
    return form_page(request, "login.html", values, [])


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
        return form_page(request, "login.html", values, errors, status)
    return _signed_in(request, issued, values["next"])


@auth_pages.get("/register")
async def register_page(request: Request) -> Response:
    return form_page(request, "register.html", {}, [])


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
        return form_page(request, "register.html", values, errors, status)
    send_after_response(background, ctx, mail)
    if ctx.settings.require_email_verification:  # signed in once the address is confirmed
        confirm = {"email": body.email, "purpose": "verify_email", "action": "/verify-email"}
        return form_page(request, "code_enter.html", confirm, [])
    issued = await accounts_service.issue_session(session, ctx, user.id, client)
    return _signed_in(request, issued, "/")


@auth_pages.post("/verify-email/confirm")
async def verify_email(
    request: Request, session: DbSession, ctx: Accounts, client: ClientInfo
) -> Response:
    form = await checked_form(request, form_cookie(request))
    values = {"email": field(form, "email"), "purpose": "verify_email", "action": "/verify-email",
              "then": field(form, "then")}  # fmt: skip
    try:
        body = CodeLoginIn.model_validate({"email": values["email"], "code": field(form, "code")})
        await accounts_service.verify_email(
            session, ctx, email=body.email, code=body.code, client=client
        )
    except (ValidationError, DiaristError) as exc:
        errors, status = await refusal(session, exc)
        return form_page(request, "code_enter.html", values, errors, status)
    if field(form, "then") == "settings":  # confirmed from the settings of a signed-in account
        return RedirectResponse("/settings?confirmed=1", status_code=303)
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
        return form_page(request, "code_request.html", values, errors, status)
    send_after_response(background, ctx, mail)
    return form_page(request, "code_enter.html", values, [])


def _code_request_routes(purpose: str, path: str) -> None:
    """The page that asks for an address and the post that mails the code, of a purpose."""

    async def show(request: Request) -> Response:
        return form_page(request, "code_request.html", {"purpose": purpose, "action": path}, [])

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
        return form_page(request, "code_enter.html", values, errors, status)
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
        return form_page(request, "code_enter.html", values, errors, status)
    return RedirectResponse("/login?reset=1", status_code=303)


# Signing in with an OpenID Connect provider: a link leaves for the provider (writing nothing
# but the sealed flow in a cookie); the provider sends the browser back to the callback, which
# signs in, or connects the identity to the signed-in account when Settings started the flow.


def _callback_uri(request: Request, provider: str) -> str:
    base = request.app.state.settings.web.public_url or str(request.base_url).rstrip("/")
    return f"{base}/login/oidc/{provider}/callback"


async def leave_for_provider(
    request: Request, ctx: Accounts, provider: str, *, next: str, link: bool
) -> Response:
    """To the provider's authorization page, the flow sealed in a cookie."""
    url, flow = await ctx.providers.start(
        provider, _callback_uri(request, provider), next=next, link=link
    )
    response = RedirectResponse(url, status_code=303)
    max_age = ctx.settings.oidc.flow_minutes * 60
    set_provider_flow(response, request, flow.sealed(ctx.keyring), max_age)
    return response


@auth_pages.get("/login/oidc/{provider}")
async def sign_in_with_provider(
    request: Request, ctx: Accounts, provider: str, next: str = "/"
) -> Response:
    try:
        return await leave_for_provider(request, ctx, provider, next=safe_next(next), link=False)
    except DiaristError as exc:
        values = {"next": safe_next(next)}
        return form_page(request, "login.html", values, [exc.detail], exc.status)


@auth_pages.get("/login/oidc/{provider}/callback")
async def provider_callback(
    request: Request,
    session: DbSession,
    ctx: Accounts,
    client: ClientInfo,
    background: BackgroundTasks,
    provider: str,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    """Back from the provider: the flow opened and its state compared before anything else
    (a callback this browser did not start is refused), then signed in or connected."""
    link = False
    try:
        max_age = ctx.settings.oidc.flow_minutes * 60
        flow = Flow.opened(ctx.keyring, provider_flow(request), max_age_s=max_age)
        link = flow.link
        if flow.provider != provider or not csrf_matches(flow.state, state):
            raise OidcFlowInvalid()
        if error is not None:
            raise provider_error(error)
        if not code or len(code) > 2048:
            raise OidcFlowInvalid()
        redirect_uri = _callback_uri(request, provider)
        if link:
            me = await viewer(request, session, ctx, background)
            await accounts_service.link_provider(
                session, ctx, me.principal.user_id, flow, code, redirect_uri, client
            )
            response: Response = RedirectResponse("/settings#identities", status_code=303)
        else:
            issued = await accounts_service.sign_in_with_provider(
                session, ctx, flow, code, redirect_uri, client
            )
            response = _signed_in(request, issued, flow.next)
    except DiaristError as exc:
        errors, status = await refusal(session, exc)
        if link:
            response = page(request, "error.html", {"me": None, "errors": errors}, status)
        else:
            response = form_page(request, "login.html", {"next": "/"}, errors, status)
    clear_provider_flow(response, request)
    return response

"""Sign up, sign in and sign out: forms on the accounts service, the session in a cookie."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from diarist.accounts import service as accounts_service
from diarist.accounts.dependencies import Accounts, ClientInfo
from diarist.accounts.schemas import LoginIn, RegisterIn
from diarist.db.session import DbSession
from diarist.errors import DiaristError
from diarist.web.render import page
from diarist.web.security import (
    FORM_COOKIE,
    clear_session,
    form_token,
    remember_form_token,
    set_session,
)
from diarist.web.viewer import SignedIn, checked_form, field, problems, safe_next, undo

auth_pages = APIRouter(include_in_schema=False)


def _form_page(
    request: Request, template: str, values: dict[str, Any], errors: list[str], status: int = 200
) -> Response:
    token = form_token(request)
    response = page(request, template, {"csrf": token, "values": values, "errors": errors}, status)
    remember_form_token(response, request, token)
    return response


@auth_pages.get("/login")
async def login_page(request: Request, next: str = "/") -> Response:
    return _form_page(request, "login.html", {"next": safe_next(next)}, [])


@auth_pages.post("/login")
async def login(
    request: Request, session: DbSession, ctx: Accounts, client: ClientInfo
) -> Response:
    form = await checked_form(request, request.cookies.get(FORM_COOKIE))
    values = {"email": field(form, "email"), "next": safe_next(form.get("next"))}
    try:
        body = LoginIn.model_validate({"email": values["email"], "password": form.get("password")})
        issued = await accounts_service.login(
            session, ctx, email=body.email, password=body.password, client=client
        )
    except ValidationError as exc:
        return _form_page(request, "login.html", values, problems(exc), 422)
    except DiaristError as exc:
        await undo(session, exc)
        return _form_page(request, "login.html", values, problems(exc), exc.status)
    response = RedirectResponse(values["next"], status_code=303)
    set_session(response, request, issued.token, issued.expires_at)
    return response


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
    form = await checked_form(request, request.cookies.get(FORM_COOKIE))
    values = {"email": field(form, "email"), "name": field(form, "name")}
    try:
        body = RegisterIn.model_validate({**values, "password": form.get("password") or None})
        if body.password is None:
            raise ValueError("password: a password is needed to sign in here")
        _user, mail = await accounts_service.register(
            session, ctx, email=body.email, name=body.name, password=body.password, client=client
        )
        issued = await accounts_service.login(
            session, ctx, email=body.email, password=body.password, client=client
        )
    except (ValidationError, ValueError) as exc:
        messages = problems(exc) if isinstance(exc, ValidationError) else [str(exc)]
        return _form_page(request, "register.html", values, messages, 422)
    except DiaristError as exc:
        await undo(session, exc)
        return _form_page(request, "register.html", values, problems(exc), exc.status)
    accounts_service.send_after_response(background, ctx, mail)
    response = RedirectResponse("/", status_code=303)
    set_session(response, request, issued.token, issued.expires_at)
    return response


@auth_pages.post("/logout")
async def logout(
    request: Request, session: DbSession, ctx: Accounts, client: ClientInfo, me: SignedIn
) -> Response:
    await checked_form(request, me.csrf)
    await accounts_service.logout(session, ctx, me.principal.user_id, me.principal.token_id, client)
    response = RedirectResponse("/login", status_code=303)
    clear_session(response, request)
    return response

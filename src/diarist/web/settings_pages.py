"""Settings: profile and preferences (time zone, language, the AI consent), sessions with
revoke, personal access tokens, connected sign-in providers, export, and deleting the
account. Each form calls the
service the API route calls and is validated by the API's own models."""

from __future__ import annotations

import uuid
from typing import Any, cast

from fastapi import BackgroundTasks, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import preferences
from diarist.accounts import service as accounts_service
from diarist.accounts.dependencies import (
    Accounts,
    ClientInfo,
    ExportFormat,
    export_response,
    send_after_response,
)
from diarist.accounts.personal_data import IDENTITY_EMAIL, SESSION_USER_AGENT
from diarist.accounts.schemas import PatCreateIn, ProfilePatch, ReauthIn
from diarist.accounts.service import AccountsContext
from diarist.db.session import DatabaseDep, DbSession
from diarist.errors import DiaristError
from diarist.web.auth_pages import form_page, leave_for_provider
from diarist.web.render import page
from diarist.web.security import clear_session
from diarist.web.viewer import SignedIn, Viewer, checked_form, field, pages_router, refusal

settings_pages = pages_router()
EXPORTS = {"json": "Everything (JSON)", "zip": "Everything with files (zip)",
           "dayone": "Day One (zip)", "markdown": "Markdown notes (zip)"}  # fmt: skip
REMOTE = preferences.REMOTE_PROVIDER  # the AI consent: entries may go to the provider


async def _settings_page(
    request: Request,
    session: AsyncSession,
    me: Viewer,
    *,
    errors: list[str] | None = None,
    new_token: str | None = None,
    status: int = 200,
) -> Response:
    user_id = me.principal.user_id
    user = await accounts_service.get_user(session, user_id)
    identities = await accounts_service.list_identities(session, user_id)
    ctx: AccountsContext = request.app.state.accounts
    sessions = await accounts_service.list_sessions(session, user_id)
    buttons = ctx.providers.buttons()
    labels = dict(buttons)
    linked = {identity.provider for identity in identities}
    context: dict[str, Any] = {
        "me": me, "csrf": me.csrf, "user": user, "email": ctx.email_of(user),
        "prefs": me.preferences, "remote": REMOTE in me.preferences.providers,
        "sessions": sessions,
        "agents": {row.id: ctx.personal.open_optional(SESSION_USER_AGENT, row.user_agent_sealed)
                   for row in sessions},
        "tokens": await accounts_service.list_pats(session, user_id),
        "current": me.principal.token_id, "exports": EXPORTS, "new_token": new_token,
        "identities": [(identity, labels.get(identity.provider, identity.provider),
                        ctx.personal.open_optional(IDENTITY_EMAIL, identity.email_sealed))
                       for identity in identities],
        "connectable": [(name, label) for name, label in buttons if name not in linked],
        "errors": errors or [],
    }  # fmt: skip
    return page(request, "settings.html", context, status)


@settings_pages.get("/settings")
async def settings(request: Request, session: DbSession, me: SignedIn) -> Response:
    return await _settings_page(request, session, me)


async def _refused(
    request: Request, session: AsyncSession, me: Viewer, exc: ValidationError | DiaristError
) -> Response:
    errors, status = await refusal(session, exc)
    return await _settings_page(request, session, me, errors=errors, status=status)


@settings_pages.post("/settings/confirm-email")
async def confirm_email(
    request: Request, session: DbSession, ctx: Accounts, background: BackgroundTasks, me: SignedIn
) -> Response:
    """Mail a code that confirms my address, and ask for it (reminders are mailed only to a
    confirmed address)."""
    await checked_form(request, me.csrf)
    user = await accounts_service.get_user(session, me.principal.user_id)
    email = ctx.email_of(user)
    mail = await accounts_service.request_code(session, ctx, email=email, purpose="verify_email")
    send_after_response(background, ctx, mail)
    values = {"email": email, "purpose": "verify_email", "action": "/verify-email",
              "then": "settings"}  # fmt: skip
    return form_page(request, "code_enter.html", values, [])


@settings_pages.post("/settings/profile")
async def profile(request: Request, session: DbSession, me: SignedIn) -> Response:
    form = await checked_form(request, me.csrf)
    providers = ["local", REMOTE] if form.get("remote") else ["local"]
    preferences = {
        "timezone": field(form, "timezone"),
        "language": field(form, "language"),
        "ai_processing": {"enabled": bool(form.get("analysis")), "providers": providers},
    }
    try:
        patch = ProfilePatch.model_validate(
            {"name": field(form, "name"), "preferences": preferences}
        )
        await accounts_service.update_profile(
            session, me.principal.user_id, name=patch.name, preferences=patch.preferences
        )
    except (ValidationError, DiaristError) as exc:
        return await _refused(request, session, me, exc)
    return RedirectResponse("/settings", status_code=303)


@settings_pages.post("/settings/sessions/{token_id}/revoke")
async def revoke_session(
    request: Request,
    session: DbSession,
    ctx: Accounts,
    client: ClientInfo,
    me: SignedIn,
    token_id: uuid.UUID,
) -> Response:
    await checked_form(request, me.csrf)
    kind = "pat" if request.query_params.get("kind") == "pat" else "session"
    try:
        await accounts_service.revoke_token(
            session, ctx, me.principal.user_id, token_id, kind, client
        )
    except DiaristError as exc:
        return await _refused(request, session, me, exc)
    return RedirectResponse("/settings", status_code=303)


@settings_pages.post("/settings/tokens")
async def create_token(
    request: Request, session: DbSession, ctx: Accounts, client: ClientInfo, me: SignedIn
) -> Response:
    form = await checked_form(request, me.csrf)
    days = field(form, "expires_in_days")
    try:
        # A number the model checks; empty is "never" (not "seven" read as never).
        body = PatCreateIn.model_validate(
            {
                "name": field(form, "name"),
                "scope": field(form, "scope") or "read",
                "expires_in_days": int(days) if days.lstrip("-").isdigit() else (days or None),
            }
        )
        _row, token = await accounts_service.create_pat(
            session, ctx, me.principal.user_id, name=body.name, scope=body.scope,
            expires_in_days=body.expires_in_days, client=client,
        )  # fmt: skip
    except (ValidationError, DiaristError) as exc:
        return await _refused(request, session, me, exc)
    # Shown once, on this answer only (no-store, like every page).
    return await _settings_page(request, session, me, new_token=token, status=201)


@settings_pages.get("/settings/identities/connect/{provider}")
async def connect_provider(
    request: Request, session: DbSession, ctx: Accounts, me: SignedIn, provider: str
) -> Response:
    """Off to the provider; the identity is connected when it sends the browser back (a link,
    not a form: the page's Content-Security-Policy keeps forms on this site)."""
    try:
        return await leave_for_provider(request, ctx, provider, next="/settings", link=True)
    except DiaristError as exc:
        return await _refused(request, session, me, exc)


@settings_pages.post("/settings/identities/{identity_id}/disconnect")
async def disconnect_provider(
    request: Request,
    session: DbSession,
    ctx: Accounts,
    client: ClientInfo,
    me: SignedIn,
    identity_id: uuid.UUID,
) -> Response:
    await checked_form(request, me.csrf)
    try:
        await accounts_service.unlink_identity(
            session, ctx, me.principal.user_id, identity_id, client
        )
    except DiaristError as exc:
        return await _refused(request, session, me, exc)
    return RedirectResponse("/settings#identities", status_code=303)


@settings_pages.get("/settings/export")
async def export_download(
    request: Request,
    database: DatabaseDep,
    me: SignedIn,
    format: str = "json",
) -> Response:
    chosen = format if format in EXPORTS else "json"
    return export_response(
        request.app.state, database, me.principal.user_id, cast(ExportFormat, chosen)
    )


@settings_pages.post("/settings/delete")
async def delete_account(
    request: Request, session: DbSession, ctx: Accounts, client: ClientInfo, me: SignedIn
) -> Response:
    form = await checked_form(request, me.csrf)
    try:
        body = ReauthIn.model_validate({"password": form.get("password") or None})
        await accounts_service.reauthenticate(
            session, ctx, me.principal.user_id, password=body.password, code=None, client=client
        )
        await accounts_service.delete_account(session, me.principal.user_id)
    except (ValidationError, DiaristError) as exc:
        return await _refused(request, session, me, exc)
    response = RedirectResponse("/register", status_code=303)
    clear_session(response, request)
    return response

"""Who is looking at a page: the signed-in `Viewer` of the session cookie, or a redirect to
the sign-in page; and the checks every form post makes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import preferences
from diarist.accounts.dependencies import Accounts, current_principal, pending_of
from diarist.accounts.errors import NotAuthenticated
from diarist.accounts.preferences import UserPreferences
from diarist.accounts.principal import Principal
from diarist.accounts.secrets import token_digest
from diarist.db.session import DbSession
from diarist.errors import DiaristError
from diarist.reminders import service as reminders_service
from diarist.web.security import CSRF_FIELD, csrf_matches, session_token

# The tag of every page route: a service error on one answers as a page (site.py).
PAGES = "web pages"


def pages_router() -> APIRouter:
    """A router of the web app's pages (not in the API's OpenAPI document)."""
    return APIRouter(include_in_schema=False, tags=[PAGES])


class SignInRequired(Exception):
    """The page needs a signed-in viewer; the answer is a redirect to the sign-in page."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class BadForm(Exception):
    """A form post without a valid CSRF token: refused before anything is read or written."""


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    preferences: UserPreferences
    csrf: str
    # A tag of the account for what the browser keeps (drafts, the outbox): the same in every
    # session of the account, different for another, and not the account's id.
    scope: str
    # Unread notifications, for the bell in the page header.
    unread: int = 0

    @property
    def zone(self) -> str:
        return self.preferences.timezone


def safe_next(target: str | None) -> str:
    """A path on this site to go to after signing in (never another origin)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def sign_in_redirect(path: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(safe_next(path), safe='/')}", status_code=303)


async def viewer(
    request: Request, session: DbSession, ctx: Accounts, background: BackgroundTasks
) -> Viewer:
    """The signed-in viewer of the session cookie (its token checked as any bearer token's,
    the tenant set for the request's unit of work) and the bell's unread count: one indexed
    count (a partial index of the unread), the only statement this adds to a page."""
    token = session_token(request)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        # After signing in, back to the page the form was on (a post cannot be replayed).
        referer = urlsplit(request.headers.get("referer", ""))
        same_site = referer.netloc == request.url.netloc
        path = referer.path if same_site and referer.path else "/"
    if token is None:
        raise SignInRequired(path)
    pending = pending_of(token_digest(token), request, request.app.state.db, ctx, background)
    try:
        principal = await current_principal(session, pending)
    except NotAuthenticated:
        raise SignInRequired(path) from None
    mine = await preferences.preferences_of(session, principal.user_id)
    scope = ctx.keyring.form_token(f"account:{principal.user_id}")[:16]
    unread = await reminders_service.count_unread(session, principal.user_id)
    return Viewer(principal, mine, ctx.keyring.form_token(token), scope, unread)


SignedIn = Annotated[Viewer, Depends(viewer)]


async def checked_form(request: Request, expected: str | None) -> dict[str, str]:
    """The posted form's fields (text fields only) once its CSRF token is `expected`."""
    form = await request.form()
    if not csrf_matches(expected, form.get(CSRF_FIELD)):
        raise BadForm()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def problems(exc: ValidationError | DiaristError) -> list[str]:
    """What to tell the writer about a refused form, in words."""
    if isinstance(exc, DiaristError):
        # An error that carries its field errors (the preferences' validation) says them too.
        details = exc.extra.get("errors")
        return [exc.detail, *_messages(details)] if isinstance(details, list) else [exc.detail]
    return _messages(exc.errors())


def _messages(errors: Iterable[Any]) -> list[str]:
    messages = []
    for error in errors:
        where = ".".join(str(part) for part in error["loc"] if part != "raw_data")
        message = str(error["msg"]).removeprefix("Value error, ")
        messages.append(f"{where}: {message}" if where else message)
    return messages


async def undo(session: AsyncSession, exc: DiaristError) -> None:
    """Before a refused form is shown again: drop the request's writes unless the error
    keeps them (a failed sign-in's counters), as the API's unit of work would."""
    if not exc.keeps_writes:
        await session.rollback()


async def refusal(
    session: AsyncSession, exc: ValidationError | DiaristError
) -> tuple[list[str], int]:
    """What to say of a refused form and its status (422 for a value the API's model refuses,
    the error's own otherwise), its writes undone (`undo`)."""
    if isinstance(exc, DiaristError):
        await undo(session, exc)
        return problems(exc), exc.status
    return problems(exc), 422


def field(form: dict[str, Any], name: str) -> str:
    return str(form.get(name, "")).strip()

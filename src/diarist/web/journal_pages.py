"""The journal's pages: the timeline, writing and editing (with the edit conflict shown), one
entry with what the analysis found, and search. Each calls the service the API route calls."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any, cast, get_args
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from diarist.config import AppSettings, Settings
from diarist.db.session import DbSession
from diarist.errors import DiaristError
from diarist.journal import presenters
from diarist.journal import service as entries_service
from diarist.journal import tags as journal_tags
from diarist.journal.errors import EntryNotFound, IdempotencyKeyReused, VersionMismatch
from diarist.journal.queries import EntryFilters, EntryQuery, resolve_filters
from diarist.journal.schemas import EntryCreate, EntryUpdate
from diarist.search import service as search_service
from diarist.search.dependencies import QueryEmbedderDep
from diarist.search.schemas import Mode
from diarist.search.service import SearchRequest
from diarist.web.entry_extras import extras
from diarist.web.render import page
from diarist.web.viewer import (
    SignedIn,
    Viewer,
    checked_form,
    field,
    pages_router,
    problems,
    refusal,
    undo,
)

journal_pages = pages_router()
PAGE_SIZE = 20
MODES: tuple[str, ...] = get_args(Mode)


def _context(me: Viewer, **values: Any) -> dict[str, Any]:
    return {"me": me, "csrf": me.csrf, **values}


# The timeline's filters on the page, by the names of the API's query (journal.filters).
FILTERS = ("tag", "tag_mode", "mood_min", "mood_max", "from", "to", "starred", "deleted")


def _filter_values(request: Request) -> dict[str, Any]:
    """The filters the timeline page was asked for, as the API's query would take them."""
    given = {k: v.strip() for k, v in request.query_params.items() if k in FILTERS and v.strip()}
    values: dict[str, Any] = dict(given)
    if "tag" in given:
        values["tag"] = [t.strip() for t in given["tag"].split(",") if t.strip()]
    for flag in ("starred", "deleted"):
        if flag in given:
            values[flag] = given[flag] in {"1", "true", "on"}
    return values


@journal_pages.get("/")
async def timeline(
    request: Request, session: DbSession, me: SignedIn, cursor: str | None = None
) -> Response:
    asked = _filter_values(request)
    shown = {k: v for k, v in request.query_params.items() if k in FILTERS}
    context = _context(me, items=[], next_cursor=None, filters=shown, errors=[])
    status = 200
    try:
        query = EntryQuery.model_validate(asked)
        filters = await resolve_filters(session, me.principal.user_id, query)
        if filters is not None:
            rows, next_cursor = await entries_service.list_entries(
                session, me.principal.user_id, filters, order="entry_date", cursor=cursor,
                limit=PAGE_SIZE, text_chars=presenters.EXCERPT_CHARS,
            )  # fmt: skip
            context["items"] = [presenters.summary_out(row, list(row.tags)) for row in rows]
            context["next_cursor"] = next_cursor
    except (ValidationError, DiaristError) as exc:
        context["errors"], status = await refusal(session, exc)
    context["more"] = urlencode({**shown, "cursor": context["next_cursor"] or ""})
    return page(request, "timeline.html", context, status)


def _entry_body(form: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The API's entry fields from the writing form, and what could not be read."""
    errors: list[str] = []
    body: dict[str, Any] = {
        # Browsers send a textarea's lines ending in CRLF.
        "raw_data": {"format": "markdown", "text": form.get("text", "").replace("\r\n", "\n")},
        "title": field(form, "title") or None,
        "tags": [tag.strip() for tag in form.get("tags", "").split(",") if tag.strip()],
        "mood_rating": None,
    }
    mood = field(form, "mood")
    if mood:
        try:
            body["mood_rating"] = int(mood)
        except ValueError:
            errors.append("mood: a whole number from 1 to 10")
    when = field(form, "entry_date")
    if when:
        body["entry_date"] = when  # the form's local time: the service reads it in my zone
    return body, errors


def _form_values(form: dict[str, str]) -> dict[str, str]:
    names = ("title", "text", "tags", "mood", "entry_date", "version", "idempotency")
    return {name: form.get(name, "") for name in names}


async def _tag_names(session: DbSession, me: Viewer) -> list[str]:
    """The writer's tags, offered as they type (a datalist: no script needed)."""
    tags = await journal_tags.list_tags(session, me.principal.user_id, query=None, limit=500)
    return [tag.name for tag in tags]


@journal_pages.get("/write")
async def write_page(request: Request, session: DbSession, me: SignedIn) -> Response:
    values = {"idempotency": secrets.token_urlsafe(16)}
    tag_names = await _tag_names(session, me)
    return page(request, "write.html", _context(me, values=values, errors=[], tag_names=tag_names))


@journal_pages.post("/preview")
async def preview(request: Request, me: SignedIn) -> Response:
    """The editor's live preview: the text as the entry page will show it (sanitised)."""
    form = await checked_form(request, me.csrf)
    return page(request, "_preview.html", {"text": form.get("text", "")})


@journal_pages.post("/write")
async def write(
    request: Request, session: DbSession, settings: AppSettings, me: SignedIn
) -> Response:
    form = await checked_form(request, me.csrf)
    body, errors = _entry_body(form)
    values = _form_values(form)
    if not errors:
        try:
            entry, _replayed = await entries_service.create_entry(
                session, me.principal.user_id, EntryCreate.model_validate(body), settings.journal,
                idempotency_key=values["idempotency"][:200] or None,
            )  # fmt: skip
            return RedirectResponse(f"/entries/{entry.id}", status_code=303)
        except (ValidationError, DiaristError) as exc:
            errors, _status = await refusal(session, exc)
            if isinstance(exc, IdempotencyKeyReused):  # this text is new: a new key saves it
                values["idempotency"] = secrets.token_urlsafe(16)
    context = _context(me, values=values, errors=errors, tag_names=await _tag_names(session, me))
    return page(request, "write.html", context, 422)


async def _view(session: DbSession, me: Viewer, entry_id: uuid.UUID) -> dict[str, Any]:
    view = await entries_service.entry_view(session, me.principal.user_id, entry_id)
    out = presenters.view_out(view)
    return {
        "entry": out,
        "text": entries_service.entry_text_if_plain(view.entry),
        "row": view.entry,
    }


def _edit_values(out: Any, text: str | None) -> dict[str, str]:
    return {
        "title": out.title or "",
        "text": text if text is not None else out.excerpt,
        "tags": ", ".join(out.tags),
        "mood": str(out.mood_rating or ""),
        "version": str(out.version),
    }


async def _entry_page(
    request: Request,
    session: DbSession,
    settings: Settings,
    me: Viewer,
    entry_id: uuid.UUID,
    *,
    edit: bool,
) -> Response:
    shown = await _view(session, me, entry_id)
    if not edit:
        more = await extras(session, settings, me, shown["row"])
        return page(request, "entry.html", _context(me, **shown, **more))
    values = _edit_values(shown["entry"], shown["text"])
    context = _context(
        me, entry=shown["entry"], values=values, errors=[], plain=shown["text"] is not None,
        tag_names=await _tag_names(session, me),
    )  # fmt: skip
    return page(request, "edit.html", context)


@journal_pages.get("/entries/{entry_id}")
async def entry_page(
    request: Request, session: DbSession, settings: AppSettings, me: SignedIn, entry_id: uuid.UUID
) -> Response:
    return await _entry_page(request, session, settings, me, entry_id, edit=False)


@journal_pages.get("/entries/{entry_id}/edit")
async def edit_page(
    request: Request, session: DbSession, settings: AppSettings, me: SignedIn, entry_id: uuid.UUID
) -> Response:
    return await _entry_page(request, session, settings, me, entry_id, edit=True)


@journal_pages.post("/entries/{entry_id}/edit")
async def edit(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    me: SignedIn,
    entry_id: uuid.UUID,
) -> Response:
    form = await checked_form(request, me.csrf)
    body, errors = _entry_body(form)
    values = _form_values(form)
    body.pop("entry_date", None)
    if not values["version"].isdigit():
        errors.append("version: reload the page, then save again")
    theirs = None
    current = await entries_service.get_entry(
        session, me.principal.user_id, entry_id, deleted=False
    )
    written = entries_service.entry_text_if_plain(current)
    text = body.pop("raw_data")["text"]
    if written is not None and "text" in form and text != written:
        # The text in its own format (plain stays plain); other formats (EditorJS…) are
        # not edited here: the form has no text for them, and their text is kept whole.
        body["raw_data"] = {**current.raw_data, "text": text}
    if not errors:
        try:
            patch = EntryUpdate.model_validate(body)
            await entries_service.update_entry(
                session, me.principal.user_id, entry_id, patch, settings.journal,
                expected_version=int(values["version"]),
            )  # fmt: skip
            return RedirectResponse(f"/entries/{entry_id}", status_code=303)
        except ValidationError as exc:
            errors = problems(exc)
        except VersionMismatch as exc:
            await undo(session, exc)
            theirs = await _view(session, me, entry_id)
            values["version"] = str(theirs["entry"].version)  # saving again keeps mine
            errors = ["This entry was changed elsewhere since you opened it."]
        except DiaristError as exc:
            if isinstance(exc, EntryNotFound):
                raise  # gone meanwhile: the error page
            await undo(session, exc)
            errors = problems(exc)
    shown = theirs or await _view(session, me, entry_id)
    status = 409 if theirs else 422
    context = _context(
        me, entry=shown["entry"], values=values, errors=errors, theirs=theirs,
        plain=written is not None, tag_names=await _tag_names(session, me),
    )  # fmt: skip
    return page(request, "edit.html", context, status)


@journal_pages.post("/entries/{entry_id}/delete")
async def delete(
    request: Request, session: DbSession, me: SignedIn, entry_id: uuid.UUID
) -> Response:
    await checked_form(request, me.csrf)
    await entries_service.trash_entry(session, me.principal.user_id, entry_id)
    return RedirectResponse("/", status_code=303)


@journal_pages.get("/search")
async def search(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    embedder: QueryEmbedderDep,
    me: SignedIn,
    q: str = "",
    mode: str = "hybrid",
) -> Response:
    mode = mode if mode in MODES else "hybrid"
    context = _context(me, q=q, mode=mode, modes=MODES, result=None, errors=[])
    if not q.strip():
        return page(request, "search.html", context)
    query = SearchRequest(
        query=q[:500], mode=cast(Mode, mode), filters=EntryFilters(), limit=PAGE_SIZE,
        now=datetime.now(UTC), abandoned=request.is_disconnected,
    )  # fmt: skip
    try:
        context["result"] = await search_service.search(
            session, settings, embedder, me.principal.user_id, query
        )
    except DiaristError as exc:
        await undo(session, exc)
        return page(request, "search.html", {**context, "errors": problems(exc)}, exc.status)
    return page(request, "search.html", context)

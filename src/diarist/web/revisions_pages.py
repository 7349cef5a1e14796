"""An entry's earlier versions: the list, one shown as it was, and bringing one back (as a
new version: the current one is kept as a revision too). The journal's revision service,
as `GET /entries/{id}/revisions` and `POST …/restore` use it."""

from __future__ import annotations

import uuid

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from diarist.config import AppSettings
from diarist.db.session import DbSession
from diarist.journal import service as entries_service
from diarist.web.render import page
from diarist.web.viewer import SignedIn, checked_form, field, pages_router

revisions_pages = pages_router()


@revisions_pages.get("/entries/{entry_id}/revisions")
async def revisions(
    request: Request, session: DbSession, me: SignedIn, entry_id: uuid.UUID, version: int = 0
) -> Response:
    """The list; with `version`, that version shown as it was."""
    user_id = me.principal.user_id
    entry = await entries_service.get_entry(session, user_id, entry_id, deleted=False)
    earlier = await entries_service.list_revisions(session, user_id, entry_id)
    shown = None
    if version:
        revision = await entries_service.get_revision(session, user_id, entry_id, version)
        text = revision.raw_data.get("text") if isinstance(revision.raw_data, dict) else None
        shown = {"revision": revision, "text": text if isinstance(text, str) else None}
    context = {
        "me": me, "csrf": me.csrf, "entry": entry, "revisions": earlier, "shown": shown,
        "errors": [],
    }  # fmt: skip
    return page(request, "revisions.html", context)


@revisions_pages.post("/entries/{entry_id}/revisions/{version}/restore")
async def restore(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    me: SignedIn,
    entry_id: uuid.UUID,
    version: int,
) -> Response:
    form = await checked_form(request, me.csrf)
    current = field(form, "current")
    await entries_service.restore_revision(
        session, me.principal.user_id, entry_id, version, settings.journal,
        expected_version=int(current) if current.isdigit() else None,
    )  # fmt: skip
    return RedirectResponse(f"/entries/{entry_id}", status_code=303)

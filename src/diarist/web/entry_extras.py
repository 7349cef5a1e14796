"""What the entry page shows beside the entry: related memories (entries nearest in meaning)
and the tags the analysis suggests, with accepting one. The same services as
`GET /entries/{id}/related` and `/tag-suggestions`."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.analysis import service as analysis_service
from diarist.config import AppSettings, Settings
from diarist.db.session import DbSession
from diarist.journal import service as entries_service
from diarist.memories import service as memories_service
from diarist.models import Entry
from diarist.web.viewer import SignedIn, Viewer, checked_form, pages_router

entry_extras = pages_router()
RELATED = 5


async def extras(
    session: AsyncSession, settings: Settings, me: Viewer, entry: Entry
) -> dict[str, Any]:
    """Related entries (None until the entry is analysed) and tag suggestions of a live entry."""
    if entry.deleted_at is not None:
        return {"related": [], "suggestions": []}
    user_id = me.principal.user_id
    found = await memories_service.find_related_entries(
        session, settings.analysis, user_id, entry.id, limit=RELATED, min_similarity=0.3
    )
    related = None if found is None else [{"entry": e, "similarity": s} for e, s in found]
    suggestions = await analysis_service.suggest_tags(
        session, settings.analysis, user_id, entry.id, str(entry.search_config)
    )
    return {"related": related, "suggestions": suggestions}


@entry_extras.post("/entries/{entry_id}/suggestions/{tag_id}/accept")
async def accept(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    me: SignedIn,
    entry_id: uuid.UUID,
    tag_id: uuid.UUID,
) -> Response:
    await checked_form(request, me.csrf)
    entry = await entries_service.get_entry(session, me.principal.user_id, entry_id, deleted=False)
    await analysis_service.accept_suggestion(
        session, settings.analysis, me.principal.user_id, entry.id, tag_id,
        str(entry.search_config),
    )  # fmt: skip
    return RedirectResponse(f"/entries/{entry_id}", status_code=303)

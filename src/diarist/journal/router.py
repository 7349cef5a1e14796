"""HTTP routes of entries (`/api/v1/entries`): the timeline, one entry, its revisions and
its tag suggestions."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

import pydantic_core
from fastapi import APIRouter, Header, Query, Response, status
from pydantic import Field

from diarist.accounts.dependencies import CurrentPrincipal, UncheckedPrincipal, current_principal
from diarist.analysis import schemas as analysis_schemas
from diarist.analysis import service as analysis_service
from diarist.config import AppSettings
from diarist.db.session import DbSession
from diarist.journal import presenters, voice
from diarist.journal import service as entries_service
from diarist.journal.errors import InvalidPrecondition
from diarist.journal.filters import TimelineQuery, resolve_filters
from diarist.journal.schemas import (
    EntryCreate,
    EntryOut,
    EntryPage,
    EntryUpdate,
    RevisionOut,
    TranscriptionQueued,
    TranscriptionRequest,
)
from diarist.kit.responses import json_response, problem_responses
from diarist.models import Entry, EntryRevision

entries_router = APIRouter(prefix="/api/v1/entries", tags=["entries"])

_PROBLEM = problem_responses(400, 401, 403, 404, 409, 412, 413, 422)
_ETAG = re.compile(r'^(?:W/)?"(\d{1,9})"$')

_STRING = {"type": "string"}
_ETAG_HEADER = {"ETag": {"description": "The entry's version, for `If-Match`.", "schema": _STRING}}
_LOCATION_HEADER = {"Location": {"description": "The entry's URL.", "schema": _STRING}}
# An entry in the body: the route's status with its ETag.
_ENTRY = {**_PROBLEM, 200: {"description": "The entry.", "headers": _ETAG_HEADER}}
_CREATED = {
    **_PROBLEM,
    201: {"description": "Created.", "headers": {**_ETAG_HEADER, **_LOCATION_HEADER}},
    200: {
        "model": EntryOut,
        "description": "A retry with an `Idempotency-Key` used before for the same body: the "
        "entry made the first time.",
        "headers": {
            **_ETAG_HEADER,
            **_LOCATION_HEADER,
            "Idempotent-Replayed": {"description": "Always `true`.", "schema": _STRING},
        },
    },
}


def _etag(entry: Entry) -> dict[str, str]:
    return {"ETag": f'"{entry.version}"'}


def _expected_version(if_match: str | None) -> int | None:
    """The version an `If-Match` names; None without the header (the write is accepted)."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = _ETAG.match(if_match.strip())
    if found is None:
        raise InvalidPrecondition('If-Match must be an ETag of this API, e.g. "3".')
    return int(found.group(1))


async def _entry_out(session: DbSession, entry: Entry) -> EntryOut:
    """The full representation of an entry just written (one more statement)."""
    return presenters.view_out(
        await entries_service.entry_view(session, entry.user_id, entry.id, entry=entry)
    )


def _entry_response(entry_out: EntryOut, entry: Entry, status_code: int = 200) -> Response:
    return json_response(entry_out, status_code, headers=_etag(entry))


# --- entries ----------------------------------------------------------------------------------


@entries_router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=EntryOut, responses=_CREATED
)
async def create_entry(
    body: EntryCreate,
    settings: AppSettings,
    session: DbSession,
    pending: UncheckedPrincipal,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Write an entry. With `Idempotency-Key`, a retry returns the entry made the first time."""
    view, replayed = await entries_service.create_entry_checked(
        session, pending, body, settings.journal, idempotency_key=idempotency_key
    )
    response = _entry_response(presenters.view_out(view), view.entry, 200 if replayed else 201)
    response.headers["Location"] = f"/api/v1/entries/{view.entry.id}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


# Parameters that leave the timeline "plain": such a page is one round trip with its token check.
_PLAIN_TIMELINE = frozenset({"order", "limit", "cursor", "deleted"})


@entries_router.get("", response_model=EntryPage, responses=_PROBLEM)
async def list_entries(
    query: Annotated[TimelineQuery, Query()], session: DbSession, pending: UncheckedPrincipal
) -> Response:
    """The timeline, newest first, with filters; `deleted=true` lists the trash."""
    if query.model_fields_set <= _PLAIN_TIMELINE:
        rows, next_cursor = await entries_service.list_plain_entries_checked(
            session, pending, order=query.order, deleted=query.deleted,
            cursor=query.cursor, limit=query.limit, text_chars=presenters.EXCERPT_CHARS,
        )  # fmt: skip
        return _page_response(rows, next_cursor)
    me = await current_principal(session, pending)
    filters = await resolve_filters(session, me.user_id, query)
    if filters is None:
        return json_response(EntryPage(items=[], next_cursor=None))
    rows, next_cursor = await entries_service.list_entries(
        session, me.user_id, filters, order=query.order, cursor=query.cursor, limit=query.limit,
        text_chars=presenters.EXCERPT_CHARS,
    )  # fmt: skip
    return _page_response(rows, next_cursor)


def _page_response(rows: Sequence[Any], next_cursor: str | None) -> Response:
    # Rows from our own tables are valid: serialised straight to JSON, never validated again.
    items = [presenters.summary_out(row, list(row.tags)) for row in rows]
    body = pydantic_core.to_json({"items": items, "next_cursor": next_cursor})
    return Response(content=body, media_type="application/json")


@entries_router.get("/{entry_id}", response_model=EntryOut, responses=_ENTRY)
async def get_entry(
    entry_id: uuid.UUID, session: DbSession, pending: UncheckedPrincipal
) -> Response:
    """One entry (also from the trash), with its version as `ETag`."""
    view = await entries_service.entry_view_checked(session, pending, entry_id)
    return _entry_response(presenters.view_out(view), view.entry)


@entries_router.patch("/{entry_id}", response_model=EntryOut, responses=_ENTRY)
async def update_entry(
    entry_id: uuid.UUID,
    body: EntryUpdate,
    settings: AppSettings,
    session: DbSession,
    me: CurrentPrincipal,
    if_match: Annotated[str | None, Header(max_length=100)] = None,
) -> Response:
    """Change fields; `If-Match` with the ETag refuses the write if someone changed it since."""
    entry = await entries_service.update_entry(
        session,
        me.user_id,
        entry_id,
        body,
        settings.journal,
        expected_version=_expected_version(if_match),
    )
    return _entry_response(await _entry_out(session, entry), entry)


@entries_router.post(
    "/{entry_id}/transcribe",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TranscriptionQueued,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
async def transcribe_recording(
    entry_id: uuid.UUID,
    body: TranscriptionRequest,
    settings: AppSettings,
    session: DbSession,
    me: CurrentPrincipal,
) -> TranscriptionQueued:
    """Turn a recording attached to the entry into its text (a voice entry), in the background,
    offline or through the provider (with the user's consent) as the server is configured; the
    entry's `metadata.transcription` says how it went (docs/attachments.md)."""
    await voice.request_transcription(session, settings, me.user_id, entry_id, body.attachment_id)
    return TranscriptionQueued(entry_id=entry_id, attachment_id=body.attachment_id)


@entries_router.delete("/{entry_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_PROBLEM)
async def trash_entry(entry_id: uuid.UUID, session: DbSession, me: CurrentPrincipal) -> Response:
    """Move to the trash."""
    await entries_service.trash_entry(session, me.user_id, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@entries_router.post("/{entry_id}/restore", response_model=EntryOut, responses=_ENTRY)
async def restore_entry(entry_id: uuid.UUID, session: DbSession, me: CurrentPrincipal) -> Response:
    """Take an entry out of the trash."""
    entry = await entries_service.restore_entry(session, me.user_id, entry_id)
    return _entry_response(await _entry_out(session, entry), entry)


@entries_router.delete(
    "/{entry_id}/purge", status_code=status.HTTP_204_NO_CONTENT, responses=_PROBLEM
)
async def purge_entry(entry_id: uuid.UUID, session: DbSession, me: CurrentPrincipal) -> Response:
    """Delete for good (with its revisions)."""
    await entries_service.purge_entry(session, me.user_id, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@entries_router.post(
    "/{entry_id}/analyze",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,  # no body (the default would document JSON)
    response_description="Queued for analysis; no body.",
    responses=_PROBLEM,
)
async def analyze_entry(entry_id: uuid.UUID, session: DbSession, me: CurrentPrincipal) -> Response:
    """Analyse the entry again, even if its text did not change."""
    await entries_service.get_entry(session, me.user_id, entry_id, deleted=False)
    await analysis_service.request_analysis(session, entry_id, me.user_id, force=True)
    return Response(status_code=status.HTTP_202_ACCEPTED)


def _revision_out(revision: EntryRevision) -> RevisionOut:
    return RevisionOut(
        version=revision.version,
        title=revision.title,
        raw_data=revision.raw_data,
        created_at=revision.created_at,
    )


@entries_router.get("/{entry_id}/revisions", response_model=list[RevisionOut], responses=_PROBLEM)
async def list_revisions(
    entry_id: uuid.UUID, session: DbSession, me: CurrentPrincipal
) -> list[RevisionOut]:
    """Earlier titles and texts of the entry, newest first."""
    revisions = await entries_service.list_revisions(session, me.user_id, entry_id)
    return [_revision_out(r) for r in revisions]


@entries_router.get(
    "/{entry_id}/revisions/{version}", response_model=RevisionOut, responses=_PROBLEM
)
async def get_revision(
    entry_id: uuid.UUID,
    version: Annotated[int, Field(ge=1, le=2**31 - 1)],
    session: DbSession,
    me: CurrentPrincipal,
) -> RevisionOut:
    return _revision_out(await entries_service.get_revision(session, me.user_id, entry_id, version))


@entries_router.post(
    "/{entry_id}/revisions/{version}/restore", response_model=EntryOut, responses=_ENTRY
)
async def restore_revision(
    entry_id: uuid.UUID,
    version: Annotated[int, Field(ge=1, le=2**31 - 1)],
    settings: AppSettings,
    session: DbSession,
    me: CurrentPrincipal,
    if_match: Annotated[str | None, Header(max_length=100)] = None,
) -> Response:
    """Make an earlier title and text current again (as a new version)."""
    entry = await entries_service.restore_revision(
        session,
        me.user_id,
        entry_id,
        version,
        settings.journal,
        expected_version=_expected_version(if_match),
    )
    return _entry_response(await _entry_out(session, entry), entry)


# --- tag suggestions (analysis's, of an entry) -----------------------------------------------

_SUGGESTION_PROBLEM = problem_responses(400, 401, 403, 404, 422)


@entries_router.get(
    "/{entry_id}/tag-suggestions",
    response_model=list[analysis_schemas.TagSuggestion],
    responses=_SUGGESTION_PROBLEM,
)
async def suggest_tags(
    entry_id: uuid.UUID, settings: AppSettings, session: DbSession, me: CurrentPrincipal
) -> list[analysis_schemas.TagSuggestion]:
    """My tags that fit this entry (from its topics and from entries like it), with why."""
    entry = await entries_service.get_entry(session, me.user_id, entry_id, deleted=False)
    found = await analysis_service.suggest_tags(
        session, settings.analysis, me.user_id, entry.id, str(entry.search_config)
    )
    return [analysis_schemas.TagSuggestion.model_validate(row) for row in found]


@entries_router.post(
    "/{entry_id}/tag-suggestions/{tag_id}/accept",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_SUGGESTION_PROBLEM,
)
async def accept_suggestion(
    entry_id: uuid.UUID,
    tag_id: uuid.UUID,
    settings: AppSettings,
    session: DbSession,
    me: CurrentPrincipal,
) -> Response:
    """Put a suggested tag on the entry (recorded as `ai_suggested`, with the reasons)."""
    entry = await entries_service.get_entry(session, me.user_id, entry_id, deleted=False)
    await analysis_service.accept_suggestion(
        session,
        settings.analysis,
        me.user_id,
        entry.id,
        tag_id,
        str(entry.search_config),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)

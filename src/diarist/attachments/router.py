"""HTTP routes: files on entries, their bytes (in ranges) and thumbnails, and the quota."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from diarist.accounts.dependencies import CurrentPrincipal
from diarist.attachments import service, serving
from diarist.attachments.schemas import AttachmentOut, AttachmentPatch, UsageOut
from diarist.attachments.serving import Conditions
from diarist.attachments.store import Store
from diarist.config import AppSettings
from diarist.db.session import DbSession
from diarist.kit.responses import json_response, problem_responses

attachments_router = APIRouter(prefix="/api/v1/attachments", tags=["attachments"])


def attachment_store(request: Request) -> Store:
    store: Store = request.app.state.attachment_store
    return store


AttachmentStore = Annotated[Store, Depends(attachment_store)]


async def request_conditions(
    range_header: Annotated[str | None, Header(alias="Range")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
    if_range: Annotated[str | None, Header()] = None,
) -> Conditions:
    """What a request for bytes asks of them (ranges, entity tags)."""
    return Conditions(range_header, if_none_match, if_range)


RequestConditions = Annotated[Conditions, Depends(request_conditions)]
_ONE = problem_responses(401, 404, 422)
_BYTES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The bytes."},
    206: {"description": "The range asked for (`Content-Range`)."},
    304: {"description": "Not modified since the `ETag` sent in `If-None-Match`."},
    **problem_responses(401, 404, 416, 422),
}


@attachments_router.post(
    "",
    status_code=201,
    response_model=AttachmentOut,
    responses={
        200: {"description": "The entry has these bytes already: that attachment."},
        **problem_responses(400, 401, 403, 404, 413, 415, 422),
    },
)
async def upload_attachment(
    file: Annotated[UploadFile, File(description="A photo, audio, video or PDF file.")],
    entry_id: Annotated[uuid.UUID, Form()],
    session: DbSession,
    me: CurrentPrincipal,
    settings: AppSettings,
    store: AttachmentStore,
    keep_location: Annotated[bool, Form()] = False,
) -> Response:
    """Attach a file to an entry (multipart). Its type is read from its bytes; the same bytes
    are stored once per user. Limits: `max_file_bytes` per file, `quota_bytes` per user."""
    attaching = service.Attaching(
        store, settings.attachments, service.staging_dir(settings.data_dir)
    )
    attachment, blob, created = await service.upload_attachment(
        session, attaching, me.user_id, entry_id, file.file, file.filename,
        keep_location=keep_location,
    )  # fmt: skip
    out = AttachmentOut.of(attachment, blob)
    return json_response(out, 201 if created else 200, headers={"Location": out.content_url[:-8]})


@attachments_router.get("", response_model=list[AttachmentOut], responses=_ONE)
async def list_attachments(
    session: DbSession,
    me: CurrentPrincipal,
    entry_id: Annotated[uuid.UUID | None, Query(description="Only this entry's.")] = None,
) -> list[AttachmentOut]:
    """My attachments (an entry's, with `entry_id`), by entry, oldest first."""
    rows = await service.list_attachments(session, me.user_id, entry_id)
    return [AttachmentOut.of(a, b) for a, b in rows]


@attachments_router.get("/usage", response_model=UsageOut, responses=problem_responses(401))
async def attachment_usage(
    session: DbSession, me: CurrentPrincipal, settings: AppSettings
) -> UsageOut:
    """How much of my quota my attachments take."""
    used, files = await service.get_usage(session, me.user_id)
    limits = settings.attachments
    return UsageOut(
        used_bytes=used, quota_bytes=limits.quota_bytes, files=files,
        max_file_bytes=limits.max_file_bytes,
    )  # fmt: skip


@attachments_router.get("/{attachment_id}", response_model=AttachmentOut, responses=_ONE)
async def get_attachment(
    attachment_id: uuid.UUID, session: DbSession, me: CurrentPrincipal
) -> AttachmentOut:
    return AttachmentOut.of(*await service.get_attachment(session, me.user_id, attachment_id))


@attachments_router.patch("/{attachment_id}", response_model=AttachmentOut, responses=_ONE)
async def patch_attachment(
    attachment_id: uuid.UUID, body: AttachmentPatch, session: DbSession, me: CurrentPrincipal
) -> AttachmentOut:
    """Keep (or stop keeping) a photo's location in what is served."""
    found = await service.set_keep_location(session, me.user_id, attachment_id, body.keep_location)
    return AttachmentOut.of(*found)


@attachments_router.delete("/{attachment_id}", status_code=204, responses=_ONE)
async def delete_attachment(
    attachment_id: uuid.UUID, session: DbSession, me: CurrentPrincipal
) -> Response:
    """Remove a file from its entry (its bytes go once nothing names them)."""
    await service.delete_attachment(session, me.user_id, attachment_id)
    return Response(status_code=204)


@attachments_router.get("/{attachment_id}/content", responses=_BYTES)
async def attachment_content(
    attachment_id: uuid.UUID,
    session: DbSession,
    me: CurrentPrincipal,
    store: AttachmentStore,
    conditions: RequestConditions,
) -> Response:
    """The file's bytes (`Range` for a part of audio or video). A photo with a location is
    served without it unless the attachment keeps it."""
    served = await serving.serve_attachment(session, store, me.user_id, attachment_id, conditions)
    return _response(served)


@attachments_router.get("/{attachment_id}/thumbnail", responses=_BYTES)
async def attachment_thumbnail(
    attachment_id: uuid.UUID,
    session: DbSession,
    me: CurrentPrincipal,
    store: AttachmentStore,
    conditions: RequestConditions,
) -> Response:
    """A photo's thumbnail (JPEG, without metadata)."""
    served = await serving.serve_attachment(
        session, store, me.user_id, attachment_id, conditions, variant="thumbnail"
    )
    return _response(served)


def _response(served: serving.Served) -> Response:
    if served.body is None:
        return Response(status_code=served.status, headers=served.headers)
    return StreamingResponse(
        served.body, status_code=served.status, media_type=served.media_type,
        headers=served.headers,
    )  # fmt: skip
